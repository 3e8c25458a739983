import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The documentation names files, links and npm scripts; this keeps every name true as the code moves.
 * Pure: reads README.md and docs/*.md from disk, no Temporal.
 */
const ROOT = resolve(__dirname, '../..');
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Doc {
  file: string;
  text: string;
  /** Prose only: fenced code blocks blanked out (their links and headings are not markdown). */
  prose: string;
  /** Inline code spans and fenced code blocks: where commands are written. */
  code: string[];
}

function load(file: string): Doc {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const code: string[] = [];
  const prose = text.replace(/^```[^\n]*\n([\s\S]*?)^```$/gm, (_block, body: string) => {
    code.push(body);
    return '';
  });
  for (const span of prose.matchAll(/`([^`\n]+)`/g)) code.push(span[1]!);
  return { file, text, prose, code };
}

const docs = DOCS.map(load);

/** Does a repository path exist? `<placeholder>` and `*` stand for any characters within one segment. */
function existsInRepo(path: string): boolean {
  const segments = path.replace(/\/+$/, '').split('/');
  let candidates = [ROOT];
  for (const segment of segments) {
    if (!/[<*]/.test(segment)) {
      candidates = candidates.map((dir) => join(dir, segment)).filter((p) => existsSync(p));
      continue;
    }
    const pattern = new RegExp(
      '^' +
        segment
          .split(/(<[^>]*>|\*)/)
          .map((part) => (part === '*' || part.startsWith('<') ? '.*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
          .join('') +
        '$',
    );
    candidates = candidates.flatMap((dir) => {
      try {
        return readdirSync(dir)
          .filter((name) => pattern.test(name))
          .map((name) => join(dir, name));
      } catch {
        return [];
      }
    });
  }
  return candidates.length > 0;
}

/** Paths under the repository's top folders, e.g. `src/workflows/inbound.ts`, `bench/results/`, `scripts/prod`. */
const REPO_PATH = /(?<![\w.\/@:-])((?:src|test|scripts|bench|docs)\/[\w.<>*\/-]*)/g;
/** Files at the top of the repository that the docs name on their own. */
const ROOT_FILE =
  /(?<![\w.\/-])(hookflow\.config\.yaml|docker-compose\.yml|Dockerfile|package\.json|tsconfig\.json|jest(?:\.\w+)?\.config\.js|eslint\.config\.mjs|knip\.json|\.ci\/run|\.prettierrc\.json|\.prettierignore)(?![\w-])/g;

function namedPaths(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(REPO_PATH)) {
    found.add(m[1]!.replace(/[.,;:]+$/, ''));
  }
  for (const m of text.matchAll(ROOT_FILE)) found.add(m[1]!);
  return [...found];
}

/** Relative link targets of `[text](target)` and `![alt](target)`, anchors kept. */
function relativeLinks(prose: string): string[] {
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** npm's own commands; any other `npm <word>` runs a script of package.json (`npm start`, `npm test`). */
const NPM_COMMANDS = new Set(['install', 'i', 'ci', 'exec', 'init', 'ls', 'audit', 'update', 'view', 'pack', 'help']);

function npmScripts(code: string[]): string[] {
  const found = new Set<string>();
  for (const snippet of code) {
    for (const m of snippet.matchAll(/\bnpm\s+run\s+([\w:.-]+)/g)) found.add(m[1]!);
    for (const m of snippet.matchAll(/\bnpm\s+([a-z][\w:-]*)/g))
      if (m[1] !== 'run' && !NPM_COMMANDS.has(m[1]!)) found.add(m[1]!);
  }
  return [...found];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(prose: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const m of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = m[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n ? `${base}-${n}` : base);
  }
  return result;
}

const scripts = Object.keys(
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts,
);

describe.each(docs.map((doc) => [doc.file, doc] as const))('%s', (_file, doc) => {
  test('every repository path it names exists', () => {
    const missing = namedPaths(doc.text).filter((path) => !existsInRepo(path));
    expect(missing).toEqual([]);
  });

  test('every relative link points at a file, and at a heading of it', () => {
    const broken = relativeLinks(doc.prose).filter((target) => {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path ? resolve(ROOT, dirname(doc.file), decodeURIComponent(path)) : join(ROOT, doc.file);
      if (!file.startsWith(ROOT) || !existsSync(file)) return true;
      if (!anchor || !file.endsWith('.md')) return false;
      return !anchors(load(relative(ROOT, file)).prose).has(anchor);
    });
    expect(broken).toEqual([]);
  });

  test('every npm script it runs is in package.json', () => {
    expect(npmScripts(doc.code).filter((name) => !scripts.includes(name))).toEqual([]);
  });
});

describe('the checks themselves', () => {
  test('find paths, links and scripts, and miss a broken one', () => {
    const text = 'See `src/workflows/inbound.ts`, [the console](docs/console.md#nope) and `npm run no-such-script`.';
    expect(namedPaths(text)).toContain('src/workflows/inbound.ts');
    expect(existsInRepo('src/workflows/no-such-file.ts')).toBe(false);
    expect(existsInRepo('src/sources/<kind>.ts')).toBe(true);
    expect(relativeLinks(text)).toEqual(['docs/console.md#nope']);
    expect(anchors(load('docs/console.md').prose).has('nope')).toBe(false);
    expect(npmScripts([text.match(/`(npm[^`]*)`/)![1]!])).toEqual(['no-such-script']);
    expect(namedPaths('GET http://127.0.0.1:3000/docs/json and `/docs`')).toEqual([]);
  });
});
