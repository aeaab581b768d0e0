// Recursive-descent parser: `.dmft` text → Model IR (unvalidated).
// Grammar in docs/model-language.md. Every error carries file:line:col,
// what was found, what was expected and a hint.
import { DmftError, didYouMean, withSource } from '../errors.ts';
import { FUNCTIONS, type CmpOp, type Expr, type Span } from '../expr/ast.ts';
import { tokenize, type Token } from './lexer.ts';
import { emptyModel, type Dist, type Model, type RandomDecl } from './ir.ts';

const KEYWORDS = ['model', 'param', 'index', 'ratio', 'random', 'noise', 'state', 'init', 'let', 'd/dt', 'constraint', 'observe'];
const DISTS: Record<string, string[]> = { normal: ['mean', 'var'], uniform: ['lo', 'hi'], bernoulli: ['p'], white: ['D'] };

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
  constructor(private toks: Token[], private file: string) {}

  // ---- token helpers ----------------------------------------------------
  private get t(): Token { return this.toks[this.pos]; }
  private peek(n = 1): Token { return this.toks[Math.min(this.pos + n, this.toks.length - 1)]; }
  private next(): Token { const t = this.t; if (t.kind !== 'eof') this.pos++; return t; }
  private is(text: string): boolean { return (this.t.kind === 'punct' || this.t.kind === 'ident') && this.t.text === text; }
  private accept(text: string): boolean { if (this.is(text)) { this.pos++; return true; } return false; }

  fail(t: Token, message: string, expected?: string, hint?: string): never {
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
      case 'd':
        if (this.peek().text === '/' && this.peek(2).text === 'dt') return this.odeStmt(m);
    }
    if (this.peek().text === '[') return this.mapStmt(m);
    const near = KEYWORDS.find((k) => k.startsWith(t.text.slice(0, 3)) && t.text.length > 2);
    this.fail(t, `unknown statement '${t.text}'`, `one of ${KEYWORDS.join(', ')}`,
      near ? `did you mean '${near}'?` : 'each line starts with a keyword; see docs/model-language.md');
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
      const v = constantValue(e, Object.fromEntries(m.params.map((p) => [p.name, p.value])));
      if (v === undefined || !Number.isFinite(v)) {
        this.fail(valueTok, `the value of parameter '${name}' must be a finite number`, 'a number (or an expression of numbers and earlier params)', 'e.g. param g = 1.5');
      }
      m.params.push({ name, value: v, span: this.span(start) });
    } while (this.accept(','));
    this.endStatement();
  }

  private indexStmt(m: Model): void {
    const kw = this.next();
    const names: string[] = [this.ident('an index name', 'write index i, j in 1..N').text];
    while (this.accept(',')) names.push(this.ident('an index name').text);
    this.expect('in', 'write index i, j in 1..N');
    const one = this.expectKind('number', "'1'", 'index ranges are written 1..N');
    if (one.value !== 1) this.fail(one, 'index ranges start at 1', "'1'", 'write 1..N');
    this.expect('..', 'write 1..N');
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
      this.fail(this.t, `expected '[' after '${tok.text}'`, "'['",
        `a ${what} lives on sites: write ${tok.text}[i]`);
    }
    this.next();
    const idx = [this.ident('an index name').text];
    while (this.accept(',')) idx.push(this.ident('an index name').text);
    this.expect(']');
    return { name: tok.text, idx, tok };
  }

  private dist(allowed: string[]): Dist {
    const t = this.ident(`a distribution (${allowed.join(', ')})`);
    if (!allowed.includes(t.text)) {
      this.fail(t, `unknown distribution '${t.text}' here`, allowed.join(', '),
        DISTS[t.text] ? `${t.text} is not allowed in this statement` : 'couplings are normal(mean, var); noise is white(D)');
    }
    this.expect('(', `write ${t.text}(${DISTS[t.text].join(', ')})`);
    const args: Expr[] = [this.expr()];
    while (this.accept(',')) args.push(this.expr());
    const close = this.t;
    this.expect(')', `${t.text} takes ${DISTS[t.text].length} argument(s): ${t.text}(${DISTS[t.text].join(', ')})`);
    if (args.length !== DISTS[t.text].length) {
      this.fail(close, `${t.text} takes ${DISTS[t.text].length} argument(s) (${DISTS[t.text].join(', ')}), found ${args.length}`,
        `${t.text}(${DISTS[t.text].join(', ')})`);
    }
    switch (t.text) {
      case 'normal': return { kind: 'normal', mean: args[0], var: args[1] };
      case 'uniform': return { kind: 'uniform', lo: args[0], hi: args[1] };
      case 'bernoulli': return { kind: 'bernoulli', p: args[0] };
      default: return { kind: 'white', D: args[0] };
    }
  }

  private randomStmt(m: Model): void {
    const kw = this.next();
    const { name, idx } = this.target('random variable');
    let timeDependent = false;
    if (this.accept('(')) {
      const tt = this.ident("'t'");
      if (tt.text !== 't') this.fail(tt, `expected 't', found '${tt.text}'`, "'t'", 'fresh randomness per step is written s[mu](t)');
      this.expect(')');
      timeDependent = true;
    }
    this.expect('~', `write random ${name}[${idx.join(',')}] ~ normal(mean, var)`);
    const dist = this.dist(['normal', 'bernoulli', 'uniform']);
    const decl: RandomDecl = { name, indices: idx, sets: [], dist, symmetric: false, timeDependent, span: this.span(kw) };
    while (this.accept(',')) {
      const opt = this.ident("'symmetric' or 'corr(…)'");
      if (opt.text === 'symmetric') { decl.symmetric = true; continue; }
      if (opt.text === 'corr') {
        this.expect('(');
        const a = this.target('random variable');
        this.expect(',');
        const b = this.target('random variable');
        this.expect(')');
        if (a.name !== name || b.name !== name || idx.length !== 2 || a.idx.join() !== idx.join() || b.idx.join() !== [...idx].reverse().join()) {
          this.fail(a.tok, `corr(…) must relate ${name}[${idx.join(',')}] to its transpose`, `corr(${name}[${idx.join(',')}], ${name}[${[...idx].reverse().join(',')}])`,
            'only the correlation of a square matrix with its transpose is supported');
        }
        this.expect('=', 'write corr(J[i,j], J[j,i]) = kappa');
        decl.transposeCorr = this.expr();
        continue;
      }
      this.fail(opt, `unknown option '${opt.text}'`, "'symmetric' or 'corr(J[i,j], J[j,i]) = kappa'");
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
    if (idx.length !== 1) this.fail(tok, `a state has one site index, found ${idx.length}`, `${name}[i]`, 'a state lives on one population of sites');
    const decl = { name, index: idx[0], set: '', span: undefined as Span | undefined } as Model['states'][number];
    while (this.is('>=') || this.is('<=')) {
      const op = this.next().text;
      const b = this.expr();
      if (op === '>=') decl.lower = b; else decl.upper = b;
    }
    decl.span = this.span(kw);
    m.states.push(decl);
    this.endStatement();
  }

  private initStmt(m: Model): void {
    const kw = this.next();
    const { name, idx, tok } = this.target('state');
    if (idx.length !== 1) this.fail(tok, `an initial condition has one site index, found ${idx.length}`, `${name}[i]`);
    if (this.accept('~')) {
      const dist = this.dist(['normal', 'uniform']);
      m.inits.push({ state: name, init: { kind: 'dist', dist }, span: this.span(kw) });
    } else if (this.accept('=')) {
      m.inits.push({ state: name, init: { kind: 'value', value: this.expr() }, span: this.span(kw) });
    } else {
      this.fail(this.t, `expected '~' or '=', found ${describe(this.t)}`, "'~ normal(m, v)', '~ uniform(a, b)' or '= value'");
    }
    this.endStatement();
  }

  private letStmt(m: Model): void {
    const kw = this.next();
    const { name, idx, tok } = this.target('let');
    if (idx.length !== 1) this.fail(tok, `a let population has one site index, found ${idx.length}`, `${name}[mu]`);
    this.expect('=', `write let ${name}[${idx[0]}] = expression`);
    const expr = this.expr();
    m.lets.push({ name, index: idx[0], set: '', expr, span: this.span(kw) });
    this.endStatement();
  }

  private odeStmt(m: Model): void {
    const kw = this.next();
    this.next(); this.next(); // '/' 'dt'
    const { name, idx, tok } = this.target('state');
    if (idx.length !== 1) this.fail(tok, `dynamics are written for one site, found ${idx.length} indices`, `${name}[i]`);
    this.expect('=', `write d/dt ${name}[${idx[0]}] = expression`);
    const rhs = this.expr();
    m.dynamics.push({ state: name, index: idx[0], kind: 'ode', rhs, span: this.span(kw) });
    this.endStatement();
  }

  private mapStmt(m: Model): void {
    const start = this.t;
    const { name, idx, tok } = this.target('state');
    if (idx.length !== 1) this.fail(tok, `dynamics are written for one site, found ${idx.length} indices`, `${name}[i]`);
    const bad = () => this.fail(this.t, `expected '(t+1)' after ${name}[${idx[0]}], found ${describe(this.t)}`, "'(t+1)' or a keyword",
      `discrete-time dynamics are written ${name}[${idx[0]}](t+1) = …; if this was meant as a statement, start the line with a keyword`);
    if (!this.accept('(')) bad();
    const tt = this.t;
    if (!(tt.text === 't' && this.peek().text === '+' && this.peek(2).value === 1 && this.peek(3).text === ')')) bad();
    this.pos += 4;
    this.expect('=');
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
    const mult = this.ident('a multiplier name');
    m.constraints.push({ lhs, rhs, multiplier: mult.text, span: this.span(kw) });
    this.endStatement();
  }

  private observeStmt(m: Model): void {
    const kw = this.next();
    const name = this.ident('an observable name', 'write observe var = mean(i, x[i]^2)').text;
    const times: string[] = [];
    if (this.accept('(')) {
      times.push(this.ident('a time name (t or s)').text);
      while (this.accept(',')) times.push(this.ident('a time name').text);
      this.expect(')');
      if (times.length > 2) this.fail(this.toks[this.pos - 1], 'an observable takes at most two times', 'C(t,s)');
    }
    this.expect('=', `write observe ${name} = expression`);
    const expr = this.expr();
    m.observables.push({ name, times, expr, span: this.span(kw) });
    this.endStatement();
  }

  // ---- expressions ------------------------------------------------------
  expr(): Expr {
    const start = this.t;
    const a = this.additive();
    if (this.is('>') || this.is('<') || this.is('>=') || this.is('<=')) {
      // a comparison; but `state x[i] >= 0` stops before >= (handled by caller)
      const op = this.next().text as CmpOp;
      const b = this.additive();
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

  private unary(): Expr {
    const start = this.t;
    if (this.accept('-')) {
      const a = this.unary();
      return { ...negate(a), span: this.span(start) };
    }
    if (this.accept('+')) return this.unary();
    return this.power();
  }

  private power(): Expr {
    const start = this.t;
    const base = this.primary();
    if (this.accept('^')) {
      const exp = this.unary(); // right-associative; allows x^-1
      return { k: 'pow', base, exp, span: this.span(start) };
    }
    return base;
  }

  private primary(): Expr {
    const t = this.t;
    if (t.kind === 'number') { this.next(); return { k: 'num', v: t.value!, span: this.span(t) }; }
    if (this.accept('(')) {
      const e = this.expr();
      this.expect(')', 'unbalanced parenthesis');
      return e;
    }
    if (t.kind !== 'ident') {
      this.fail(t, `expected an expression, found ${describe(t)}`, 'a number, a name, x[i], f(…) or ( … )',
        t.kind === 'newline' || t.kind === 'eof' ? 'the expression is incomplete' : undefined);
    }
    this.next();
    const name = t.text;
    if ((name === 'sum' || name === 'mean') && this.is('(')) {
      this.next();
      const idx = this.ident('the summation index', `write ${name}(j, expression)`);
      this.expect(',', `write ${name}(${idx.text}, expression)`);
      const body = this.expr();
      this.expect(')', `write ${name}(${idx.text}, expression)`);
      return { k: name, index: idx.text, body, span: this.span(t) };
    }
    if (this.is('[')) {
      this.next();
      const idx = [this.ident('an index name', 'indices are names such as i, j, mu').text];
      while (this.accept(',')) idx.push(this.ident('an index name').text);
      this.expect(']');
      let at: Expr | undefined;
      if (this.accept('(')) {
        at = this.expr();
        this.expect(')');
      }
      const e: Expr = { k: 'ref', name, idx, span: this.span(t) };
      return at ? { ...e, at } : e;
    }
    if (this.is('(')) {
      if (!(name in FUNCTIONS)) {
        this.fail(t, `unknown function '${name}'`, `one of ${Object.keys(FUNCTIONS).join(', ')}, sum, mean`,
          didYouMean(name, Object.keys(FUNCTIONS)) ? `did you mean '${didYouMean(name, Object.keys(FUNCTIONS))}'?` : 'an indexed quantity is written x[i], and at a time x[i](t)');
      }
      this.next();
      const args: Expr[] = [this.expr()];
      while (this.accept(',')) args.push(this.expr());
      this.expect(')');
      if (args.length !== FUNCTIONS[name]) this.fail(t, `${name} takes ${FUNCTIONS[name]} argument(s), found ${args.length}`, `${name}(x)`);
      return { k: 'call', fn: name, args, span: this.span(t) };
    }
    return { k: 'sym', name, span: this.span(t) };
  }
}

function negate(e: Expr): Expr {
  if (e.k === 'num') return { ...e, v: -e.v };
  return { k: 'mul', factors: [{ k: 'num', v: -1 }, e], span: e.span };
}

/** Value of an expression made of numbers and known params, else undefined. */
export function constantValue(e: Expr, params: Record<string, number>): number | undefined {
  switch (e.k) {
    case 'num': return e.v;
    case 'sym': return params[e.name];
    case 'add': { let s = 0; for (const t of e.terms) { const v = constantValue(t, params); if (v === undefined) return undefined; s += v; } return s; }
    case 'mul': { let s = 1; for (const t of e.factors) { const v = constantValue(t, params); if (v === undefined) return undefined; s *= v; } return s; }
    case 'pow': { const b = constantValue(e.base, params), x = constantValue(e.exp, params); return b === undefined || x === undefined ? undefined : b ** x; }
    case 'call': {
      if (e.args.length !== 1) return undefined;
      const a = constantValue(e.args[0], params);
      if (a === undefined) return undefined;
      const f: Record<string, (x: number) => number> = { tanh: Math.tanh, exp: Math.exp, log: Math.log, sqrt: Math.sqrt, abs: Math.abs, sin: Math.sin, cos: Math.cos, sign: Math.sign };
      return f[e.fn]?.(a);
    }
    default: return undefined;
  }
}
