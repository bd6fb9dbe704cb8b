// Writes the tokenizer test corpus: one JSON string per line (ASCII-escaped).
// Deterministic (seeded PRNG); node only, no packages.
'use strict'
const fs = require('fs')
const out = []
const add = (s) => out.push(JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')))

// --- 1. every code point (sampled in big uniform blocks): "a{c}a {c}{c}!" shows
//        letter/number/other/space class, lower-casing and NFC with a base letter.
const uniform = [
  [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xe000, 0xf8ff], [0x17000, 0x187ff],
  [0x18800, 0x18cff], [0x1b170, 0x1b2ff], [0x20000, 0x2ffff], [0x30000, 0x3ffff],
  [0xa000, 0xa48c], [0xf0000, 0x10ffff], [0x1401, 0x166c], [0x12000, 0x1254f], [0x13000, 0x1342f], [0x13460, 0x143ff],
  [0x14400, 0x1467f], [0x16800, 0x16a38], [0x1d800, 0x1da8b], [0x1d000, 0x1d0f5], [0xf900, 0xfad9],
  [0x2f800, 0x2fa1d], [0x1fb00, 0x1fbca], [0x2800, 0x28ff], [0x1d400, 0x1d7ff], [0x1f000, 0x1f0ff],
]
const inUniform = (c) => uniform.some(([a, b]) => c >= a && c <= b)
const probes = []
const unassigned = /\p{Cn}/u
const mark = /\p{M}/u
for (let c = 0; c <= 0x10ffff; c++) {
  if (c >= 0xd800 && c <= 0xdfff) continue
  const s = String.fromCodePoint(c)
  let take
  if (inUniform(c)) take = c % 97 === 0 || c % 0x100 === 0
  else if (unassigned.test(s)) take = c % 127 === 0
  else take = true
  if (take) probes.push(c)
}
// "a{c}a {c}{c}!" shows the regex class, lower-casing and NFC after a base
// letter; marks also get "a\u0316{c}\u0301" (canonical order and blocking).
const probe = (c) => {
  const s = String.fromCodePoint(c)
  return `a${s}a ${s}${s}!` + (mark.test(s) ? ` a\u0316${s}\u0301` : '')
}
for (let i = 0; i < probes.length; i += 8) add(probes.slice(i, i + 8).map(probe).join(' '))

// --- 2. hand-written edge cases
const cases = [
  // case mapping
  'İstanbul', 'İ', 'iİı', 'ẞ', 'STRAẞE', 'Straße', 'ΟΔΟΣ', 'ὈΔΥΣΣΕΎΣ', 'Σ', 'ς', 'ǅungla', 'ǄǅǆǇǈǉ', 'ᾈ', 'ᾼ',
  'K', 'Å', 'Ω', 'ＡＢＣ', '𝐀𝐁𝐂', 'ⅫⅯ', 'ⒶⒷ', '𐐀𐐨', '𞤀𞤢', 'ᲐᲑᲒ', 'ᏣᎳᎩ', 'ꭰꭱ', 'ȺȾ', 'ⱥⱦ', 'ꞪꞫ', 'Ꟑ', 'ϴ', 'ẞß',
  'ÀÉÎÕÜ', 'ÆØÅ', 'ŁÓDŹ', 'ČŠŽ', 'ĞİŞ', 'ӀԀ', 'ԱԲԳ', 'ႠႡ', '𖹀𖹠', '𑢠𑣀', '𐲀𐳀', '𞥀', '𐖰𐗗', 'ᲀ', 'Ꙋꙋᲈ',
  // NFC
  'cafe\u0301', 'e\u0301', 'E\u0301', 'a\u0323\u0301', 'a\u0301\u0323', 'o\u0308\u0304', 'u\u0308\u0301',
  '\u1100\u1161\u11a8', '\u1100\u1161', '\uac00\u11a8', '\u0915\u093c', '\u0958', '\u212b', '\u2126', '\u212a',
  '\u0301', '\u0301abc', ' \u0301', 'a \u0301', 'a\u034f\u0301', 'a\u0300\u0300\u0300\u0300\u0300',
  '\u0f73', '\u0f75', '\u0f81', '\u1e9b\u0323', '\u0344', '\u0340\u0341', '\u2000\u2001', 'a\u2000b\u2001c',
  'ﬁ', 'ﬃ', '\ufb2a', '\u05e9\u05c1', '\u0627\u0653', '\u0648\u0654', '\u09c7\u09be', '\u0b47\u0b3e',
  '\u0bc6\u0bbe', '\u0cc6\u0cc2', '\u0d46\u0d3e', '\u0dd9\u0dcf', '\u1025\u102e', '\u1b05\u1b35',
  '\ud804\udd31\ud804\udd27', '\ud805\udcb9\ud805\udcba', '\ud807\udc3f', 'Å\u0301', 'A\u030a\u0301',
  // whitespace and controls
  'a\tb', 'a\nb', 'a\u000bb', 'a\u000cb', 'a\rb', 'a\u001cb', 'a\u001db', 'a\u001eb', 'a\u001fb',
  'a\u0085b', 'a\u00a0b', 'a\u1680b', 'a\u180eb', 'a\u2002b', 'a\u2007b', 'a\u200ab', 'a\u200bb', 'a\u2028b',
  'a\u2029b', 'a\u202fb', 'a\u205fb', 'a\u3000b', 'a\ufeffb', 'a\u2060b', 'a\u200cb', 'a\u200db',
  '   leading', 'trailing   ', ' \t\n\u00a0\u3000 mixed \u2003\u2009 spaces \r\n', '', ' ', '\u00a0',
  '\u0000', 'a\u0000b', '\u0000\u0000x', '1\u00002', '!\u0000!', '\u007f', 'a\u007fb', '\u0080\u0081\u009f',
  'x\u0090y', '\u0085', '\u0085\u0085a',
  // emoji
  '👍', '👍🏽', 'thumbs👍up', '👨‍👩‍👧‍👦', '🧑🏾‍🚀', '🏳️‍🌈', '🇫🇷🇯🇵', '1️⃣#️⃣', '❤️', '❤︎', '☺', 'a😀b', '😀😀😀',
  '🐱cat', 'cat🐱', '🤷‍♀️', '🫠🫨', '🪿', '\u{1fae9}', '🏴󠁧󠁢󠁳󠁣󠁴󠁿',
  // contractions and apostrophes
  "it's", "IT'S", "don't", "DON'T", "we'll", "we're", "they've", "I'm", "I'd", "'s", "''s", "'sa", "'S",
  "rock'n'roll", "o'clock", "it’s", "'''", "'ll've", "x'y", "'", "''", "l'été", "'re'", "a's'b",
  // special tokens
  '<|startoftext|>', '<|endoftext|>', 'a<|endoftext|>b', '<|ENDOFTEXT|>', '<|EndOfText|>x',
  '!!<|endoftext|>!!', '<|endoftext', '<|endoftext|><|endoftext|>', '<|endoftext|>\u0301', '<<|startoftext|>>',
  '<|startoftext|>hello<|endoftext|>', 'x <| endoftext |> y', '<|endoftext|>'.repeat(5), 'ǅ<|endoftext|>',
  '<|startoftext|><|endoftext|>'.repeat(40),
  // numbers
  '2024', '3.14159', '1,000,000', '١٢٣', '۱۲۳', '१२३', '১২৩', '௧௨௩', '๑๒๓', '½¾', '²³¹', 'Ⅻ', '①②', '𝟏𝟐', '𒐀',
  '10x', 'x10', 'v1.2.3-rc4', '0xFF', '12:30pm', '-5°C',
  // long words (> 1024 bytes) and long texts
  'a'.repeat(1023), 'a'.repeat(1024), 'a'.repeat(1025), 'a'.repeat(3000), 'ab'.repeat(2000),
  'é'.repeat(700), '日本'.repeat(400), '1'.repeat(1500), '!'.repeat(3000), '😀'.repeat(400),
  'supercalifragilisticexpialidocious'.repeat(60), 'x'.repeat(1024) + 'y', 'ǅ'.repeat(600),
  'pneumonoultramicroscopicsilicovolcanoconiosis', 'Donaudampfschifffahrtsgesellschaftskapitän',
  'a photo of a cat '.repeat(50), 'word '.repeat(300), 'İ'.repeat(600), 'e\u0301'.repeat(500),
  'ﷺ', 'ﷻ', '\ufdfd', 'ㅤ', 'ᅟ', '\u115f\u1160', 'ǰ̌',
  // compositions of several Unicode versions (Dives Akuru is 13.0, Kirat Rai 16.0)
  '\u{11935}\u{11930}', '\u{11347}\u{1133e}', '\u{114b9}\u{114ba}', '\u{115b8}\u{115af}', '\u{16d63}\u{16d67}',
  '\u{113c2}\u{113c9}', '\u{105d2}\u{0307}', 'a\u0d3b\u0301', 'a\u0316\u07fd\u0301', 'a\u1dfa\u0301\u0316',
]
for (const c of cases) add(c)

// --- 3. real sentences in many languages
const sentences = fs.readFileSync(__dirname + '/sentences.txt', 'utf8').split('\n').filter((l) => l.trim())
for (const s of sentences) { add(s); add(s.toUpperCase()); add(s.normalize('NFD')) }

// --- 4. CLIP-style prompts
const things = ['cat', 'dog', 'person', 'car', 'bicycle', 'tree', 'sunset over the sea', 'plate of food',
  'Golden Retriever', 'traffic light', 'Eiffel Tower', 'Mount Fuji', 'café', 'naïve painting', 'T-shirt',
  'smartphone', 'robot', 'Raspberry Pi 5', 'NPU', 'HAILO-10H board', 'child playing', 'old man\'s hat']
const templates = ['a photo of a {}', 'A PHOTO OF A {}.', 'a blurry photo of the {}', 'a drawing of a {}!',
  'this is a {}', '{}', 'an image containing a {} and a {}', 'itap of a {}', 'a {} in the snow',
  'a close-up photo of the {}', 'a  photo\tof\n a {}']
for (const t of templates) for (const x of things) add(t.split('{}').join(x))

// --- 5. random strings (seeded)
let seed = 0x2545f491
const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296 }
const pick = (a) => a[Math.floor(rnd() * a.length)]
const pools = [
  () => pick('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  () => pick('0123456789'), () => pick(' \t\n\r'), () => pick("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
  () => String.fromCodePoint(0xa0 + Math.floor(rnd() * 0x160)), () => String.fromCodePoint(0x300 + Math.floor(rnd() * 0x70)),
  () => String.fromCodePoint(0x370 + Math.floor(rnd() * 0x200)), () => String.fromCodePoint(0x4e00 + Math.floor(rnd() * 0x5200)),
  () => String.fromCodePoint(0x1f300 + Math.floor(rnd() * 0x700)), () => String.fromCodePoint(Math.floor(rnd() * 0x20)),
  () => String.fromCodePoint(0x600 + Math.floor(rnd() * 0x1000)), () => pick(['<|endoftext|>', '<|startoftext|>', "'s", "'LL", '\u0130', '\u200d', '\ufe0f']),
  () => { let c; do { c = Math.floor(rnd() * 0x110000) } while (c >= 0xd800 && c <= 0xdfff); return String.fromCodePoint(c) },
  () => { let c; do { c = Math.floor(rnd() * 0x30000) } while (c >= 0xd800 && c <= 0xdfff); return String.fromCodePoint(c) },
]
for (let i = 0; i < 6000; i++) {
  const len = 1 + Math.floor(rnd() * (i % 10 === 0 ? 400 : 60))
  const bias = Math.floor(rnd() * pools.length)
  let s = ''
  for (let k = 0; k < len; k++) s += (rnd() < 0.5 ? pools[bias] : pick(pools))()
  add(s)
}
fs.writeFileSync(process.argv[2], out.join('\n') + '\n')
console.error(out.length + ' lines')
