// Recursive-descent parser: `.dmft` text → Model IR (unvalidated).
// Grammar in docs/model-language.md. Every error carries file:line:col,
// what was found, what was expected and a hint.
import { DmftError, didYouMean, withSource } from '../errors.ts';
import { children, type CmpOp, type Expr, type Span } from '../expr/ast.ts';
import { FUNCTIONS } from '../expr/functions.ts';
import { DIST_DEFS, DIST_NAMES, makeDist } from './distributions.ts';
import { constantValue } from '../expr/eval.ts';
import { print } from '../expr/print.ts';
import { tokenize, type Token } from './lexer.ts';
import { emptyModel, type Dist, type Model, type RandomDecl } from './ir.ts';
import { table } from '../table.ts';

const KEYWORDS = ['model', 'param', 'index', 'ratio', 'random', 'noise', 'state', 'init', 'let', 'd/dt', 'constraint', 'observe', 'matrix'];
/** each distribution's arguments (the registry's) */
const DISTS: Record<string, readonly string[]> = table(DIST_NAMES.map((n) => [n, DIST_DEFS[n].params] as const));
/** The shape of each statement, used as the hint when nothing more specific applies. */
const SYNTAX: Record<string, string> = {
  model: 'model "my model"',
  param: 'param g = 1.5 (several: param a = 1, b = 2)',
  index: 'index i, j in 1..N',
  ratio: 'ratio P/D = alpha',
  random: 'random J[i,j] ~ normal(0, g^2/N), with optional ", symmetric" or ", corr(J[i,j], J[j,i]) = kappa"',
  noise: 'noise xi[i] ~ white(D)',
  state: 'state x[i], or with bounds: state n[i] >= 0',
  init: 'init x[i] ~ normal(0, 1), init x[i] ~ uniform(a, b) or init x[i] = 0',
  let: 'let r[mu] = expression',
  'd/dt': 'd/dt x[i] = expression',
  map: 'x[i](t+1) = expression',
  constraint: 'constraint mean(i, x[i]^2) = 1 via z',
  matrix: 'matrix H[i,j] = expression, e.g. matrix S[i,j] = sum(mu, X[mu,i]*X[mu,j])',
  observe: 'observe name = expression, or observe C(t,s) = mean(i, x[i](t)*x[i](s))',
};
/** Deepest nesting accepted in an expression: each bracket, function argument,
 *  sign and exponent is a level. Later stages recurse on the tree, so the limit
 *  keeps them within the call stack; the .tex reader has the same limit. */
export const MAX_DEPTH = 100;

export function parseModel(src: string, file = '<input>'): Model {
  try {
    return new Parser(tokenize(src, file), file).model();
  } catch (e) {
    if (e instanceof DmftError) throw withSource(e, src);
    throw e;
  }
}

/** Parse a single expression (used by tests, rules and the CLI). */
export function parseExpr(src: string, file = '<expr>'): Expr {
  try {
    const p = new Parser(tokenize(src, file), file);
    const e = p.expr();
    p.skipNewlines();
    p.expectKind('eof', 'end of expression');
    return e;
  } catch (e) {
    if (e instanceof DmftError) throw withSource(e, src);
    throw e;
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of file';
  if (t.kind === 'newline') return 'end of line';
  return `'${t.text}'`;
}

class Parser {
  private pos = 0;
  /** the statement being parsed (a key of SYNTAX), for fallback hints */
  private stmt?: string;
  /** values of the params declared so far (kept as they come: no rebuild per param) */
  private paramValues = table<number>();
  /** current expression nesting depth (0: a statement's expression itself) */
  private depth = -1;
  constructor(private toks: Token[], private file: string) {}

  // ---- token helpers ----------------------------------------------------
  private get t(): Token { return this.toks[this.pos]; }
  private peek(n = 1): Token { return this.toks[Math.min(this.pos + n, this.toks.length - 1)]; }
  private next(): Token { const t = this.t; if (t.kind !== 'eof') this.pos++; return t; }
  private is(text: string): boolean { return (this.t.kind === 'punct' || this.t.kind === 'ident') && this.t.text === text; }
  private accept(text: string): boolean { if (this.is(text)) { this.pos++; return true; } return false; }

  fail(t: Token, message: string, expected?: string, hint?: string): never {
    if (hint === undefined) hint = this.stmt ? `the statement reads: ${SYNTAX[this.stmt]}` : 'see docs/model-language.md for the syntax';
    if (t.kind === 'newline' || t.kind === 'eof') {
      // point just past the last real token, where something is missing
      const i = this.toks.indexOf(t);
      const prev = this.toks.slice(0, i).reverse().find((x) => x.kind !== 'newline');
      if (prev) throw new DmftError({ file: this.file, line: prev.line, col: prev.col + (prev.end - prev.start), len: 1, message, expected, hint });
    }
    throw new DmftError({ file: this.file, line: t.line, col: t.col, len: t.end - t.start, message, expected, hint });
  }
  private expect(text: string, hint?: string): Token {
    if (this.is(text)) return this.next();
    return this.fail(this.t, `expected '${text}', found ${describe(this.t)}`, `'${text}'`, hint);
  }
  expectKind(kind: Token['kind'], what: string, hint?: string): Token {
    if (this.t.kind === kind) return this.next();
    return this.fail(this.t, `expected ${what}, found ${describe(this.t)}`, what, hint);
  }
  private ident(what: string, hint?: string): Token { return this.expectKind('ident', what, hint); }
  skipNewlines(): void { while (this.t.kind === 'newline') this.pos++; }
  /** Expect the bracket closing `open`. When it is missing altogether, point
   *  at the opening bracket: inside brackets the statement runs on over the
   *  next lines, so the token found is often far away. */
  private close(open: Token, hint?: string): Token {
    const text = open.text === '(' ? ')' : ']';
    if (this.is(text)) return this.next();
    const t = this.t;
    if (!this.hasMatch(open)) {
      throw new DmftError({
        file: this.file, line: open.line, col: open.col, len: 1,
        message: `this '${open.text}' is never closed`, expected: `'${text}'`,
        hint: `add the matching '${text}'` + (t.kind === 'eof' ? '; the file ends before it is closed'
          : t.line !== open.line ? `; the statement ran on to line ${t.line}, because a line break inside brackets does not end it` : ''),
      });
    }
    return this.fail(t, `expected '${text}', found ${describe(t)}`, `'${text}'`, hint ?? `to close the '${open.text}' at column ${open.col}${open.line !== t.line ? ` of line ${open.line}` : ''}`);
  }
  /** Is the bracket `open` matched somewhere later in the file? */
  private hasMatch(open: Token): boolean {
    let d = 0;
    for (let k = this.toks.indexOf(open); k < this.toks.length; k++) {
      const x = this.toks[k];
      if (x.kind !== 'punct') continue;
      if (x.text === '(' || x.text === '[') d++;
      else if (x.text === ')' || x.text === ']') { d--; if (d === 0) return true; }
    }
    return false;
  }
  private span(start: Token): Span {
    const last = this.toks[Math.max(0, this.pos - 1)];
    const len = last.line === start.line ? Math.max(1, last.end - start.start) : start.end - start.start;
    return { line: start.line, col: start.col, len };
  }
  private endStatement(): void {
    if (this.t.kind === 'newline') { this.pos++; return; }
    if (this.t.kind === 'eof') return;
    this.fail(this.t, `unexpected ${describe(this.t)} after the end of the statement`, 'end of line',
      'put each statement on its own line; a statement continues on the next line only after "," or an open bracket');
  }

  // ---- statements -------------------------------------------------------
  model(): Model {
    const m = emptyModel(this.file);
    this.skipNewlines();
    while (this.t.kind !== 'eof') {
      this.stmt = undefined;
      this.statement(m);
      this.skipNewlines();
    }
    return m;
  }

  private statement(m: Model): void {
    const t = this.t;
    if (t.kind !== 'ident') {
      this.fail(t, `expected a statement, found ${describe(t)}`, `one of ${KEYWORDS.join(', ')}`,
        'each line starts with a keyword, e.g. "param g = 1.5" or "d/dt x[i] = -x[i]"');
    }
    if (has(SYNTAX, t.text) && t.text !== 'map') this.stmt = t.text;
    switch (t.text) {
      case 'model': return this.modelStmt(m);
      case 'param': return this.paramStmt(m);
      case 'index': return this.indexStmt(m);
      case 'ratio': return this.ratioStmt(m);
      case 'random': return this.randomStmt(m);
      case 'noise': return this.noiseStmt(m);
      case 'state': return this.stateStmt(m);
      case 'init': return this.initStmt(m);
      case 'let': return this.letStmt(m);
      case 'constraint': return this.constraintStmt(m);
      case 'observe': return this.observeStmt(m);
      case 'matrix': return this.matrixStmt(m);
      case 'd':
        if (this.peek().text === '/' && this.peek(2).text === 'dt') { this.stmt = 'd/dt'; return this.odeStmt(m); }
        if (this.peek().text === '/') {
          this.fail(this.peek(2), `expected 'dt' after 'd/', found ${describe(this.peek(2))}`, "'dt'", 'continuous-time dynamics are written d/dt x[i] = expression');
        }
    }
    if (this.peek().text === '[') { this.stmt = 'map'; return this.mapStmt(m); }
    const words = KEYWORDS.filter((k) => k !== 'd/dt');
    const glued = gluedKeyword(t.text);
    const assign = this.peek().text === '=' ? `; to define a parameter write param ${t.text} = …` : '';
    const near = didYouMean(t.text, words) ?? (t.text.length > 2 && !assign ? words.find((k) => k.startsWith(t.text.slice(0, 3))) : undefined);
    this.fail(t, `unknown statement '${t.text}'`, `one of ${KEYWORDS.join(', ')}`,
      glued ? `did you mean '${glued} ${t.text.slice(glued.length)}'? (a space is missing)` : near ? `did you mean '${near}'?` : `each line starts with a keyword${assign}`);
  }

  private modelStmt(m: Model): void {
    const kw = this.next();
    const s = this.expectKind('string', 'a quoted title', 'write model "my model"');
    if (m.name) this.fail(kw, 'the model title is given twice', undefined, 'keep one `model "…"` line');
    m.name = s.text.slice(1, -1);
    this.endStatement();
  }

  private paramStmt(m: Model): void {
    this.next();
    do {
      const start = this.t;
      const name = this.ident('a parameter name', 'write param g = 1.5').text;
      this.expect('=', 'a parameter needs a value: param g = 1.5');
      const valueTok = this.t;
      const e = this.expr();
      const known = this.paramValues;
      const v = constantValue(e, known);
      if (v === undefined || !Number.isFinite(v)) {
        const other = findNode(e, (x) => (x.k === 'sym' && !has(known, x.name)) || x.k === 'ref' || x.k === 'sum' || x.k === 'mean');
        if (other?.k === 'sym' && this.toks.some((x, k) => x.text === '..' && this.toks[k + 1]?.text === other.name)) {
          this.fail(tokAt(this.toks, other) ?? valueTok, `the value of parameter '${name}' depends on the size '${other.name}'`, 'a number, or an expression of numbers and earlier params',
            `parameters are constants; write the size dependence where it is used, e.g. random J[i,j] ~ normal(0, ${name}^2/${other.name})`);
        }
        if (other?.k === 'sym') {
          const later = didYouMean(other.name, Object.keys(known));
          this.fail(tokAt(this.toks, other) ?? valueTok, `the value of parameter '${name}' uses '${other.name}', which is not a parameter declared before it`, 'a number, or an expression of numbers and earlier params',
            later ? `did you mean '${later}'?` : `a parameter's value is a number or an expression of parameters declared on earlier lines or to its left, e.g. param ${other.name} = 1, ${name} = 2*${other.name}`);
        }
        if (other) this.fail(tokAt(this.toks, other) ?? valueTok, `the value of parameter '${name}' must be a number, found '${print(other)}'`, 'a number, or an expression of numbers and earlier params', 'parameters are constants; sizes, site quantities and sums belong in the dynamics');
        this.fail(valueTok, `the value of parameter '${name}' is not a finite number (${print(e)} = ${v})`, 'a finite number', 'e.g. param g = 1.5');
      }
      const param: Model['params'][number] = { name, value: v, span: this.span(start) };
      known[name] = v;
      if (e.k !== 'num') param.expr = e;
      m.params.push(param);
    } while (this.accept(','));
    this.endStatement();
  }

  private indexStmt(m: Model): void {
    const kw = this.next();
    const names: string[] = [this.ident('an index name', 'write index i, j in 1..N').text];
    while (this.accept(',')) names.push(this.ident('an index name').text);
    this.expect('in', 'write index i, j in 1..N');
    const one = this.expectKind('number', "'1'", 'index ranges are written 1..N, e.g. index i, j in 1..N');
    if (one.value !== 1) this.fail(one, 'index ranges start at 1', "'1'", 'write 1..N');
    this.expect('..', 'index ranges are written 1..N, with two dots');
    const size = this.ident('a size name such as N', 'sizes are names (N, D, P), taken to infinity');
    m.indexSets.push({ size: size.text, indices: names, span: this.span(kw) });
    this.endStatement();
  }

  private ratioStmt(m: Model): void {
    const kw = this.next();
    const num = this.ident('a size name', 'write ratio P/D = alpha').text;
    this.expect('/', 'write ratio P/D = alpha');
    const den = this.ident('a size name', 'write ratio P/D = alpha').text;
    this.expect('=', 'write ratio P/D = alpha');
    const value = this.expr();
    m.ratios.push({ num, den, value, span: this.span(kw) });
    this.endStatement();
  }

  /** NAME[i, j, …] as a declaration target */
  private target(what: string): { name: string; idx: string[]; tok: Token } {
    const tok = this.ident(`a ${what} name`);
    if (!this.is('[')) {
      this.fail(this.t, `expected '[' after '${tok.text}', found ${describe(this.t)}`, "'['",
        this.is('(') ? `indices are written in square brackets: ${tok.text}[i]` : `a ${what} lives on sites: write ${tok.text}[i]`);
    }
    const open = this.next();
    const idx = [this.ident('an index name', 'indices are names such as i, j, mu').text];
    while (this.accept(',')) idx.push(this.ident('an index name', 'indices are names such as i, j, mu').text);
    this.close(open);
    return { name: tok.text, idx, tok };
  }

  private dist(allowed: string[]): Dist {
    const t = this.ident(`a distribution (${allowed.join(', ')})`);
    if (!allowed.includes(t.text)) {
      const known = has(DISTS, t.text);
      const dym = /^gauss/i.test(t.text) ? 'normal' : didYouMean(t.text, allowed);
      const what = this.stmt === 'noise' ? 'noise' : this.stmt === 'init' ? 'an initial condition' : 'a random variable';
      const usage = this.stmt === 'noise'
        ? 'noise is Gaussian white noise: noise xi[i] ~ white(D); quenched randomness is declared with random xi[i] ~ normal(0, 1)'
        : this.stmt === 'init' ? 'initial values are drawn from normal(mean, var) or uniform(lo, hi), or set with init x[i] = value'
          : 'random variables are normal(mean, var), uniform(lo, hi) or bernoulli(p); white(D) is for noise xi[i] ~ white(D)';
      this.fail(t, known ? `${what} cannot be ${t.text}(…)` : `unknown distribution '${t.text}'`, allowed.join(', '),
        dym && !known ? `did you mean '${dym}'? ${usage}` : usage);
    }
    const sig = `${t.text}(${DISTS[t.text].join(', ')})`;
    const n = DISTS[t.text].length;
    const open = this.expect('(', `write ${sig}`);
    const args: Expr[] = [this.expr()];
    while (this.accept(',')) args.push(this.expr());
    const close = this.t;
    this.close(open, `${t.text} takes ${n} argument${n === 1 ? '' : 's'}: ${sig}`);
    if (args.length !== n) {
      this.fail(args.length > n ? (tokAt(this.toks, args[n]) ?? close) : close,
        `${t.text} takes ${n} argument${n === 1 ? '' : 's'} (${DISTS[t.text].join(', ')}), found ${args.length}`,
        sig, DIST_HINT[t.text]);
    }
    return makeDist(t.text, args);
  }

  private randomStmt(m: Model): void {
    const kw = this.next();
    const { name, idx } = this.target('random variable');
    let timeDependent = false;
    if (this.is('(')) {
      const open = this.next();
      const tt = this.ident("'t'", 'fresh randomness per step is written s[mu](t)');
      if (tt.text !== 't') this.fail(tt, `expected 't', found '${tt.text}'`, "'t'", 'fresh randomness per step is written s[mu](t)');
      this.close(open);
      timeDependent = true;
    }
    this.expect('~', `write random ${name}[${idx.join(',')}] ~ normal(mean, var)`);
    const dist = this.dist(['normal', 'bernoulli', 'uniform']);
    const decl: RandomDecl = { name, indices: idx, sets: [], dist, symmetric: false, timeDependent, span: this.span(kw) };
    while (this.accept(',')) {
      const opt = this.ident("'symmetric' or 'corr(…)'", 'options after the distribution: ", symmetric" or ", corr(J[i,j], J[j,i]) = kappa"');
      if (opt.text === 'symmetric') { decl.symmetric = true; continue; }
      if (opt.text === 'corr') {
        const open = this.expect('(', 'write corr(J[i,j], J[j,i]) = kappa');
        const a = this.target('random variable');
        this.expect(',', 'write corr(J[i,j], J[j,i]) = kappa');
        const b = this.target('random variable');
        this.close(open);
        if (idx.length !== 2) {
          this.fail(opt, `corr(…) needs a matrix with two indices; '${name}' has ${idx.length} ${idx.length === 1 ? 'index' : 'indices'}`, `random ${name}[i,j] ~ …, corr(${name}[i,j], ${name}[j,i]) = kappa`,
            'the correlation of a square matrix with its transpose is declared with corr(J[i,j], J[j,i]) = kappa');
        }
        const aOk = a.name === name && a.idx.join() === idx.join();
        if (!aOk || b.name !== name || b.idx.join() !== [...idx].reverse().join()) {
          this.fail(aOk ? b.tok : a.tok, `corr(…) must relate ${name}[${idx.join(',')}] to its transpose`, `corr(${name}[${idx.join(',')}], ${name}[${[...idx].reverse().join(',')}])`,
            'only the correlation of a square matrix with its transpose is supported');
        }
        this.expect('=', 'write corr(J[i,j], J[j,i]) = kappa');
        decl.transposeCorr = this.expr();
        continue;
      }
      const dym = didYouMean(opt.text, ['symmetric', 'corr']);
      this.fail(opt, `unknown option '${opt.text}'`, "'symmetric' or 'corr(J[i,j], J[j,i]) = kappa'",
        dym ? `did you mean '${dym}'?` : 'the options of a random matrix are ", symmetric" and ", corr(J[i,j], J[j,i]) = kappa"');
    }
    m.randoms.push(decl);
    this.endStatement();
  }

  private noiseStmt(m: Model): void {
    const kw = this.next();
    const { name, idx } = this.target('noise');
    this.expect('~', `write noise ${name}[${idx.join(',')}] ~ white(D)`);
    const dist = this.dist(['white']);
    m.noises.push({ name, indices: idx, sets: [], dist, span: this.span(kw) });
    this.endStatement();
  }

  private stateStmt(m: Model): void {
    const kw = this.next();
    const { name, idx, tok } = this.target('state');
    if (idx.length !== 1) this.fail(tok, `a state has one site index, found ${idx.length}`, `${name}[i]`, 'a state lives on one population of sites; a matrix-valued state is not supported');
    const decl = { name, index: idx[0], set: '', span: undefined as Span | undefined } as Model['states'][number];
    while (this.is('>=') || this.is('<=')) {
      const opTok = this.next();
      const b = this.additive();
      if (opTok.text === '>=') {
        if (decl.lower) this.fail(opTok, `'${name}' has two lower bounds`, undefined, `write at most one '>=' and one '<=', e.g. state ${name}[${idx[0]}] >= 0 <= 1`);
        decl.lower = b;
      } else {
        if (decl.upper) this.fail(opTok, `'${name}' has two upper bounds`, undefined, `write at most one '>=' and one '<=', e.g. state ${name}[${idx[0]}] >= 0 <= 1`);
        decl.upper = b;
      }
    }
    if (this.is('>') || this.is('<')) {
      this.fail(this.t, `a bound is written with '${this.t.text}=', found '${this.t.text}'`, "'>=' or '<='", `write state ${name}[${idx[0]}] ${this.t.text}= 0`);
    }
    decl.span = this.span(kw);
    m.states.push(decl);
    this.endStatement();
  }

  private initStmt(m: Model): void {
    const kw = this.next();
    const { name, idx, tok } = this.target('state');
    if (idx.length !== 1) this.fail(tok, `an initial condition has one site index, found ${idx.length}`, `${name}[i]`, `write init ${name}[i] ~ normal(0, 1)`);
    if (this.accept('~')) {
      const dist = this.dist(['normal', 'uniform']);
      m.inits.push({ state: name, index: idx[0], init: { kind: 'dist', dist }, span: this.span(kw) });
    } else if (this.accept('=')) {
      m.inits.push({ state: name, index: idx[0], init: { kind: 'value', value: this.expr() }, span: this.span(kw) });
    } else {
      this.fail(this.t, `expected '~' or '=', found ${describe(this.t)}`, "'~ normal(m, v)', '~ uniform(a, b)' or '= value'",
        `write init ${name}[${idx[0]}] ~ normal(0, 1) for random initial values, or init ${name}[${idx[0]}] = 0`);
    }
    this.endStatement();
  }

  private matrixStmt(m: Model): void {
    const kw = this.next();
    const { name, idx, tok } = this.target('matrix');
    if (idx.length !== 2) this.fail(tok, `a matrix has two indices, found ${idx.length}`, `${name}[i,j]`, `write matrix ${name}[i,j] = expression, with i, j over one set`);
    this.expect('=', `write matrix ${name}[${idx.join(',')}] = expression`);
    const expr = this.expr();
    (m.matrices ??= []).push({ name, indices: [idx[0], idx[1]], set: '', expr, span: this.span(kw) });
    this.endStatement();
  }

  private letStmt(m: Model): void {
    const kw = this.next();
    const { name, idx, tok } = this.target('let');
    if (idx.length !== 1) this.fail(tok, `a let population has one site index, found ${idx.length}`, `${name}[mu]`, `write let ${name}[mu] = expression`);
    this.expect('=', `write let ${name}[${idx[0]}] = expression`);
    const expr = this.expr();
    m.lets.push({ name, index: idx[0], set: '', expr, span: this.span(kw) });
    this.endStatement();
  }

  private odeStmt(m: Model): void {
    const kw = this.next();
    this.next(); this.next(); // '/' 'dt'
    const { name, idx, tok } = this.target('state');
    if (idx.length !== 1) this.fail(tok, `dynamics are written for one site, found ${idx.length} indices`, `${name}[i]`, `write d/dt ${name}[i] = expression`);
    this.expect('=', `write d/dt ${name}[${idx[0]}] = expression`);
    const rhs = this.expr();
    m.dynamics.push({ state: name, index: idx[0], kind: 'ode', rhs, span: this.span(kw) });
    this.endStatement();
  }

  private mapStmt(m: Model): void {
    const start = this.t;
    const { name, idx, tok } = this.target('state');
    const written = `${name}[${idx.join(',')}]`;
    const here = this.t;
    if (here.text !== '(') {
      // most likely a statement whose keyword is missing
      const glued = gluedKeyword(name);
      const guess = glued ? `did you mean '${glued} ${name.slice(glued.length)}[${idx.join(',')}]'? (a space is missing)`
        : here.text === '~' ? `did you forget the keyword: random ${written} ~ …, noise ${written} ~ white(D) or init ${written} ~ …?`
          : here.text === '=' ? `did you forget the keyword: let ${written} = … or init ${written} = …?`
            : `every statement starts with a keyword (${KEYWORDS.join(', ')})`;
      this.fail(tok, `a line cannot start with '${written}'`, `a keyword, or discrete-time dynamics ${name}[${idx[0]}](t+1) = …`, guess);
    }
    const hint = `discrete-time dynamics are written ${name}[${idx[0]}](t+1) = expression`;
    if (idx.length !== 1) this.fail(tok, `dynamics are written for one site, found ${idx.length} indices`, `${name}[i]`, `write ${name}[i](t+1) = expression`);
    const ok = this.peek().text === 't' && this.peek(2).text === '+' && this.peek(3).kind === 'number' && this.peek(3).value === 1 && this.peek(4).text === ')';
    if (!ok) this.fail(here, `expected '(t+1)' after '${written}'`, "'(t+1)'", hint);
    this.pos += 5;
    this.expect('=', `write ${name}[${idx[0]}](t+1) = expression`);
    const rhs = this.expr();
    m.dynamics.push({ state: name, index: idx[0], kind: 'map', rhs, span: this.span(start) });
    this.endStatement();
  }

  private constraintStmt(m: Model): void {
    const kw = this.next();
    const lhs = this.expr();
    this.expect('=', 'write constraint mean(i, x[i]^2) = 1 via z');
    const rhs = this.expr();
    this.expect('via', 'name the Lagrange multiplier: … via z');
    const mult = this.ident('a multiplier name', 'name the Lagrange multiplier: … via z');
    m.constraints.push({ lhs, rhs, multiplier: mult.text, span: this.span(kw) });
    this.endStatement();
  }

  private observeStmt(m: Model): void {
    const kw = this.next();
    const name = this.ident('an observable name', 'write observe var = mean(i, x[i]^2)').text;
    const times: string[] = [];
    if (this.is('(')) {
      const open = this.next();
      const tnames: Token[] = [this.ident('a time name (t or s)', `a two-time observable is written ${name}(t,s)`)];
      while (this.accept(',')) tnames.push(this.ident('a time name', `a two-time observable is written ${name}(t,s)`));
      this.close(open);
      if (tnames.length > 2) this.fail(tnames[2], `an observable takes at most two times, found ${tnames.length}`, `${name}(t,s)`, 'one-time observables are written observe name = …, two-time ones observe C(t,s) = …');
      times.push(...tnames.map((x) => x.text));
    }
    this.expect('=', `write observe ${name} = expression`);
    const expr = this.expr();
    m.observables.push({ name, times, expr, span: this.span(kw) });
    this.endStatement();
  }

  // ---- expressions ------------------------------------------------------
  expr(): Expr {
    const start = this.t;
    this.enter(start);
    try {
      return this.comparison(start);
    } finally {
      this.depth--;
    }
  }
  private enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) {
      this.depth = -1;
      this.fail(t, `the expression is nested too deeply (more than ${MAX_DEPTH} levels of brackets, signs and exponents)`, undefined, 'split it with let definitions');
    }
  }
  private comparison(start: Token): Expr {
    const a = this.additive();
    if (this.is('>') || this.is('<') || this.is('>=') || this.is('<=')) {
      // a comparison; but `state x[i] >= 0` stops before >= (handled by caller)
      const op = this.next().text as CmpOp;
      const b = this.additive();
      if (this.is('>') || this.is('<') || this.is('>=') || this.is('<=')) {
        this.fail(this.t, 'comparisons cannot be chained', undefined, `write a product of comparisons, e.g. (0 < x[i])*(x[i] < 1)`);
      }
      return { k: 'cmp', op, a, b, span: this.span(start) };
    }
    return a;
  }

  private additive(): Expr {
    const start = this.t;
    const terms: Expr[] = [this.multiplicative()];
    while (this.is('+') || this.is('-')) {
      const minus = this.next().text === '-';
      const t = this.multiplicative();
      terms.push(minus ? negate(t) : t);
    }
    return terms.length === 1 ? terms[0] : { k: 'add', terms, span: this.span(start) };
  }

  private multiplicative(): Expr {
    const start = this.t;
    const factors: Expr[] = [this.unary()];
    while (this.is('*') || this.is('/')) {
      const divide = this.next().text === '/';
      const f = this.unary();
      factors.push(divide ? { k: 'pow', base: f, exp: { k: 'num', v: -1 }, span: f.span } : f);
    }
    return factors.length === 1 ? factors[0] : { k: 'mul', factors, span: this.span(start) };
  }

  /** A sign is one level of nesting (---x is three). */
  private unary(): Expr {
    const start = this.t;
    if (!this.is('-') && !this.is('+')) return this.power();
    this.enter(start);
    try {
      if (this.accept('-')) {
        const a = this.unary();
        return { ...negate(a), span: this.span(start) };
      }
      this.next();
      return this.unary();
    } finally {
      this.depth--;
    }
  }

  /** An exponent is one level of nesting (x^x^x is two). */
  private power(): Expr {
    const start = this.t;
    const base = this.primary();
    if (this.is('^')) {
      this.enter(this.next());
      try {
        const exp = this.unary(); // right-associative; allows x^-1
        return { k: 'pow', base, exp, span: this.span(start) };
      } finally {
        this.depth--;
      }
    }
    return base;
  }

  private primary(): Expr {
    const t = this.t;
    if (t.kind === 'number') { this.next(); return { k: 'num', v: t.value!, span: this.span(t) }; }
    if (this.is('(')) {
      const open = this.next();
      const e = this.expr();
      this.close(open);
      return e;
    }
    if (t.kind !== 'ident') {
      this.fail(t, `expected an expression, found ${describe(t)}`, 'a number, a name, x[i], f(…) or ( … )',
        t.kind === 'newline' || t.kind === 'eof' ? 'the expression is incomplete' : undefined);
    }
    this.next();
    const name = t.text;
    if ((name === 'sum' || name === 'mean') && this.is('(')) {
      const open = this.next();
      const idx = this.ident('the summation index', `write ${name}(j, expression)`);
      this.expect(',', `write ${name}(${idx.text}, expression)`);
      const body = this.expr();
      this.close(open, `write ${name}(${idx.text}, expression): one index, then one expression`);
      return { k: name, index: idx.text, body, span: this.span(t) };
    }
    if (this.is('[')) {
      const open = this.next();
      const idx = [this.ident('an index name', 'indices are names such as i, j, mu').text];
      while (this.accept(',')) idx.push(this.ident('an index name', 'indices are names such as i, j, mu').text);
      this.close(open);
      let at: Expr | undefined;
      if (this.is('(')) {
        const o = this.next();
        at = this.expr();
        this.close(o, 'a time argument is written x[i](t)');
      }
      const e: Expr = { k: 'ref', name, idx, span: this.span(t) };
      return at ? { ...e, at } : e;
    }
    if (this.is('(')) {
      if (!has(FUNCTIONS, name)) {
        this.fail(t, `unknown function '${name}'`, `one of ${Object.keys(FUNCTIONS).join(', ')}, sum, mean`,
          didYouMean(name, Object.keys(FUNCTIONS)) ? `did you mean '${didYouMean(name, Object.keys(FUNCTIONS))}'?` : 'an indexed quantity is written x[i], and at a time x[i](t)');
      }
      const open = this.next();
      const args: Expr[] = [this.expr()];
      while (this.accept(',')) args.push(this.expr());
      this.close(open);
      if (args.length !== FUNCTIONS[name]) {
        const n = FUNCTIONS[name];
        this.fail(t, `${name} takes ${n} argument${n === 1 ? '' : 's'}, found ${args.length}`, `${name}(x)`,
          args.length > n ? `for a product write ${name}(a*b); functions of several variables are not supported` : `write ${name}(x)`);
      }
      return { k: 'call', fn: name, args, span: this.span(t) };
    }
    return { k: 'sym', name, span: this.span(t) };
  }
}

const DIST_HINT: Record<string, string> = table(DIST_NAMES.map((n) => [n, DIST_DEFS[n].help] as const));

/** First node (pre-order) satisfying the predicate. */
function findNode(e: Expr, pred: (x: Expr) => boolean): Expr | undefined {
  if (pred(e)) return e;
  for (const c of children(e)) { const f = findNode(c, pred); if (f) return f; }
  return undefined;
}
/** The token a node's span starts at (for pointing into a parsed expression). */
function tokAt(toks: Token[], e: Expr): Token | undefined {
  const sp = e.span;
  if (!sp) return undefined;
  const t = toks.find((x) => x.line === sp.line && x.col === sp.col);
  return t ? { ...t, end: t.start + Math.max(1, sp.len ?? 1) } : undefined;
}

/** An own property (names like 'constructor' must not find Object.prototype). */
function has(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** A keyword glued to a name, as in 'statex' (→ 'state'). */
function gluedKeyword(word: string): string | undefined {
  return KEYWORDS.find((k) => k !== 'd/dt' && word.length > k.length && word.startsWith(k));
}

function negate(e: Expr): Expr {
  if (e.k === 'num') return { ...e, v: -e.v };
  return { k: 'mul', factors: [{ k: 'num', v: -1 }, e], span: e.span };
}
