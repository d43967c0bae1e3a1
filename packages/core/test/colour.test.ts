/**
 * The terminal module: colour decided once by its rules (--color, FORCE_COLOR, NO_COLOR, a terminal),
 * the width of a terminal, and lines cut to it with colour codes and wide characters counted right.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { colorMode, fitLine, terminal, terminalWidth, useColor, visibleWidth } from '../src/index.js';

const tty = { isTTY: true, columns: 40 };
const pipe = { isTTY: false };

test('colour: --color first, then FORCE_COLOR, then NO_COLOR (an empty one means nothing), then a terminal', () => {
  const cases: [typeof tty | typeof pipe, NodeJS.ProcessEnv, 'auto' | 'always' | 'never', boolean][] = [
    [tty, {}, 'auto', true],
    [pipe, {}, 'auto', false],
    [tty, { TERM: 'dumb' }, 'auto', false],
    [tty, { NO_COLOR: '1' }, 'auto', false],
    [tty, { NO_COLOR: '' }, 'auto', true],
    [pipe, { FORCE_COLOR: '1' }, 'auto', true],
    [tty, { FORCE_COLOR: '0' }, 'auto', false],
    [tty, { FORCE_COLOR: 'false' }, 'auto', false],
    [pipe, { FORCE_COLOR: '' }, 'auto', false],
    [pipe, { FORCE_COLOR: '1', NO_COLOR: '1' }, 'auto', true],
    [pipe, {}, 'always', true],
    [tty, { FORCE_COLOR: '1' }, 'never', false],
  ];
  for (const [stream, env, mode, want] of cases) assert.is(useColor(stream, env, mode), want, `${JSON.stringify(stream)} ${JSON.stringify(env)} ${mode}`);
});

test('--color values: auto, always, never, --no-color; anything else a usage error naming it', () => {
  assert.is(colorMode(undefined), 'auto');
  assert.is(colorMode('always'), 'always');
  assert.is(colorMode(false), 'never');
  assert.throws(
    () => colorMode('sometimes'),
    (e: Error) => e.message === '--color: "sometimes" is not one of auto, always, never',
  );
});

test("width: the terminal's, else $COLUMNS, else 80; none into a pipe", () => {
  assert.is(terminalWidth(tty, {}), 40);
  assert.is(terminalWidth({ isTTY: true }, { COLUMNS: '100' }), 100);
  assert.is(terminalWidth({ isTTY: true }, { COLUMNS: 'x' }), 80);
  assert.is(terminalWidth(pipe, { COLUMNS: '100' }), null);
});

test('lines cut to the width with …; colour codes take no room and are reset after a cut; wide characters take two', () => {
  assert.is(fitLine('abcdef', 10), 'abcdef');
  assert.is(fitLine('abcdefghijkl', 10), 'abcdefghi…');
  assert.is(visibleWidth(fitLine('abcdefghijkl', 10)), 10);
  assert.is(fitLine('abcdefghijkl', null), 'abcdefghijkl');
  const red = '\u001b[31mabcdefghijkl\u001b[0m';
  assert.is(visibleWidth(red), 12);
  assert.is(fitLine(red, 6), '\u001b[31mabcde…\u001b[0m');
  assert.is(fitLine('\u001b[1mab\u001b[0m cdefgh', 6), '\u001b[1mab\u001b[0m cd…');
  assert.is(visibleWidth('東京'), 4);
  assert.is(fitLine('東京東京', 5), '東京…');
  assert.is(fitLine('e\u0301tude étude', 5), 'e\u0301tud…');
  const t = terminal(tty, {});
  assert.is(t.fit(`${'x'.repeat(50)}\nshort`), `${'x'.repeat(39)}…\nshort`);
  assert.is(terminal(pipe, {}).fit('x'.repeat(500)), 'x'.repeat(500));
});

test.run();
