import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  ellipsis,
  formatPorts,
  goFormatG,
  goValue,
  humanDuration,
  humanSize,
  jsonIndent,
  renderTemplate,
  table,
} from './format.ts';

test("tables are laid out as Docker's tabwriter does: min width 10, padding 3, last column free", () => {
  assert.equal(
    table([
      ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
      [
        '0001cccccccc',
        '10.0.2.2:5000/tink-worker:latest',
        '"/usr/bin/tink-worker"',
        '2 minutes ago',
        'Up 2 minutes',
        '',
        'tink-worker',
      ],
    ]),
    'CONTAINER ID   IMAGE                              COMMAND                  CREATED         STATUS         PORTS     NAMES\n' +
      '0001cccccccc   10.0.2.2:5000/tink-worker:latest   "/usr/bin/tink-worker"   2 minutes ago   Up 2 minutes             tink-worker\n',
  );
  assert.equal(table([['A', 'B']]), 'A         B\n');
  assert.equal(table([['é✓', 'x']]), 'é✓        x\n', 'width counts characters, not bytes');
});

test('durations as go-units HumanDuration', () => {
  const cases: [number, string][] = [
    [500, 'Less than a second'],
    [1000, '1 second'],
    [59_000, '59 seconds'],
    [60_000, 'About a minute'],
    [119_000, 'About a minute'],
    [120_000, '2 minutes'],
    [3_599_000, '59 minutes'],
    [3_600_000, 'About an hour'],
    [5_400_000, '2 hours'],
    [47 * 3_600_000, '47 hours'],
    [48 * 3_600_000, '2 days'],
    [14 * 24 * 3_600_000, '2 weeks'],
    [60 * 24 * 3_600_000, '2 months'],
    [800 * 24 * 3_600_000, '2 years'],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, String(ms));
});

test("sizes as go-units HumanSizeWithPrecision(size, 3), numbers as Go's %.3g", () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [1234, '1.23kB'],
    [72_600_000, '72.6MB'],
    [123_456_789, '123MB'],
    [999_999, '1e+03kB'],
    [1_500_000_000, '1.5GB'],
  ];
  for (const [bytes, text] of cases) assert.equal(humanSize(bytes), text, String(bytes));
  assert.equal(goFormatG(0.0001234, 3), '0.000123');
  assert.equal(goFormatG(0.00001234, 3), '1.23e-05');
});

test('commands are cut with an ellipsis; ports as Docker prints them', () => {
  assert.equal(ellipsis('/usr/bin/tink-worker --id 1', 20), '/usr/bin/tink-worke…');
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(
    formatPorts([
      { PrivatePort: 80, PublicPort: 8080, IP: '0.0.0.0', Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
      { PrivatePort: 80, PublicPort: 8080, IP: '::', Type: 'tcp' },
    ]),
    '53/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp',
  );
});

test("inspect's JSON is json.Indent of the engine's text: escapes kept, empty containers inline", () => {
  assert.equal(
    jsonIndent('[{"Env":["A=1\\u0026b"],"Empty":{},"List":[],"N":1.5,"S":"a,b:{c}"}]'),
    '[\n    {\n        "Env": [\n            "A=1\\u0026b"\n        ],\n        "Empty": {},\n        "List": [],\n        "N": 1.5,\n        "S": "a,b:{c}"\n    }\n]',
  );
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const text = JSON.stringify(value);
      assert.deepEqual(JSON.parse(jsonIndent(text)), JSON.parse(text));
      assert.equal(jsonIndent(jsonIndent(text)), jsonIndent(text));
    }),
  );
});

test('templates: fields, json, missing values, and a clear error for the rest', () => {
  const data = {
    State: { Pid: 4242, Running: true },
    Config: { Env: ['A=1', 'B=2'], Labels: { z: '1', a: '2' } },
    Name: '/tink-worker',
  };
  assert.equal(renderTemplate('{{.State.Pid}}', data), '4242');
  assert.equal(
    renderTemplate('pid={{ .State.Pid }} running={{.State.Running}}', data),
    'pid=4242 running=true',
  );
  assert.equal(renderTemplate('{{.Config.Env}}', data), '[A=1 B=2]');
  assert.equal(renderTemplate('{{json .Config.Env}}', data), '["A=1","B=2"]');
  assert.equal(renderTemplate('{{.Config.Labels}}', data), 'map[a:2 z:1]');
  assert.equal(renderTemplate('{{.Nope}}', data), '<no value>');
  assert.equal(
    renderTemplate('{{.ServerVersion}} {{.Driver}}', { ServerVersion: '26.1.5', Driver: 'overlay2' }),
    '26.1.5 overlay2',
  );
  assert.throws(
    () => renderTemplate('{{range .Config.Env}}{{.}}{{end}}', data),
    /"\{\{range \.Config\.Env\}\}" is not supported/,
  );
  assert.throws(() => renderTemplate('{{.State.Pid', data), /unclosed action/);
  assert.equal(goValue(1e21), '1e+21');
  assert.equal(goValue(0.5), '0.5');
  assert.equal(goValue(null), '<nil>');
});
