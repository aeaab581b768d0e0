// The LaTeX printer, notation by notation. Every string checked here is also
// rendered by KaTeX with throwOnError (the helper L does both).
import { describe, expect, it } from 'vitest';
import { add, avg, call, integral, mul, neg, num, op, pow, ref, sub, sym, type Expr } from '../../src/expr/ast.ts';
import { parseExpr } from '../../src/model/parse.ts';
import { nameToTex, numToTex, orderParamSymbol, toLatex, validateKatex, type LatexContext } from '../../src/latex/index.ts';
import { kitchenSink, linearPartialSym, regression, scs } from './fixtures.ts';

const t = sym('t');
const s = sym('s');
const at = (name: string, tau: Expr = t): Expr => ref(name, [], tau);

/** Print, and check that KaTeX renders the result. */
function L(e: Expr | string, ctx?: LatexContext): string {
  const out = toLatex(typeof e === 'string' ? parseExpr(e) : e, ctx);
  validateKatex(out);
  return out;
}

describe('numbers', () => {
  it('prints integers plain and decimals short', () => {
    expect(numToTex(3)).toBe('3');
    expect(numToTex(-2)).toBe('-2');
    expect(numToTex(0.001)).toBe('0.001');
    expect(numToTex(0.1 + 0.2)).toBe('0.3');
    expect(numToTex(1.5)).toBe('1.5');
  });
  it('uses powers of ten for very small and large numbers', () => {
    expect(numToTex(1e-8)).toBe('10^{-8}');
    expect(numToTex(2.5e-8)).toBe('2.5 \\times 10^{-8}');
    expect(numToTex(1e21)).toBe('10^{21}');
    expect(numToTex(Infinity)).toBe('\\infty');
    expect(L('1e-8*x')).toBe('10^{-8} x');
  });
});

describe('names', () => {
  it('turns Greek names into Greek letters', () => {
    expect(nameToTex('alpha')).toBe('\\alpha');
    expect(nameToTex('kappa')).toBe('\\kappa');
    expect(nameToTex('Sigma')).toBe('\\Sigma');
    expect(nameToTex('varphi')).toBe('\\varphi');
    expect(nameToTex('eps')).toBe('\\varepsilon');
    // the special case keeps its subscripts (two noise draws eps1, eps2)
    expect(nameToTex('eps1')).toBe('\\varepsilon_1');
    expect(nameToTex('eps_a')).toBe('\\varepsilon_a');
  });
  it('writes trailing digits and underscore parts as subscripts', () => {
    expect(nameToTex('J0')).toBe('J_0');
    expect(nameToTex('eta1')).toBe('\\eta_1');
    expect(nameToTex('x12')).toBe('x_{12}');
    expect(nameToTex('eta_1')).toBe('\\eta_1');
    expect(nameToTex('sigma_w')).toBe('\\sigma_w');
    expect(nameToTex('x_a_b')).toBe('x_{a,b}');
    expect(nameToTex('sigma_2')).toBe('\\sigma_2');
    expect(nameToTex('x_mu')).toBe('x_{\\mu}');
  });
  it('reads sigma2 as a variance, σ²', () => {
    expect(nameToTex('sigma2')).toBe('\\sigma^2');
  });
  it('writes star, hat, tilde, bar suffixes and primes', () => {
    expect(nameToTex('wstar')).toBe('w^*');
    expect(nameToTex('w_star')).toBe('w^*');
    expect(nameToTex('etastar')).toBe('\\eta^*');
    expect(nameToTex('w0star')).toBe('w_0^*');
    expect(nameToTex('xhat')).toBe('\\hat{x}');
    expect(nameToTex('xtilde')).toBe('\\tilde{x}');
    expect(nameToTex('sigmabar')).toBe('\\bar{\\sigma}');
    expect(nameToTex("s'")).toBe("s'");
    expect(nameToTex('star')).toBe('\\mathrm{star}');
  });
  it('sets other words upright', () => {
    expect(nameToTex('var')).toBe('\\mathrm{var}');
    expect(nameToTex('lr')).toBe('\\mathrm{lr}');
    expect(nameToTex('g')).toBe('g');
  });
  it('escapes names that are not identifiers', () => {
    const tex = nameToTex('C[tanh(x)]_#');
    expect(tex).toBe('\\mathrm{C[tanh(x)]\\_\\#}');
    validateKatex(tex);
  });
  it('accepts verbatim overrides', () => {
    expect(L(mul(sym('sigma2'), sym('g')), { names: { sigma2: 'D_0' } })).toBe('D_0 g');
  });
});

describe('refs and indices', () => {
  it('juxtaposes single-glyph indices and comma-separates longer ones', () => {
    expect(L('J[i,j]')).toBe('J_{ij}');
    expect(L('X[mu,i]')).toBe('X_{\\mu i}');
    expect(L('X[mu,nu]')).toBe('X_{\\mu\\nu}');
    expect(L('w[k1,k2]')).toBe('w_{k_{1},k_{2}}');
    expect(L('x[i]')).toBe('x_i');
  });
  it('writes times as arguments: x(t), x_i(t)', () => {
    expect(L(at('x'))).toBe('x(t)');
    expect(L(ref('x', ['i'], t))).toBe('x_i(t)');
    expect(L(at('eta_1', s))).toBe('\\eta_1(s)');
    expect(L(at('zeta'))).toBe('\\zeta(t)');
    expect(L(at('xi'))).toBe('\\xi(t)');
    expect(L(ref('eta1', ['i'], t))).toBe('\\eta_{1,i}(t)');
  });
  it('writes quenched inputs without time', () => {
    expect(L(ref('wstar'))).toBe('w^*');
    expect(L(ref('wstar', ['i']))).toBe('w_i^*');
  });
});

describe('sums, signs and parentheses', () => {
  it('prints subtraction, not adding a negative', () => {
    expect(L('a + -b')).toBe('a - b');
    expect(L('a - 2*b')).toBe('a - 2 b');
    expect(L(add(sym('a'), num(-3)))).toBe('a - 3');
    expect(L('-x + y')).toBe('-x + y');
  });
  it('keeps the parentheses precedence needs, and no others', () => {
    expect(L('a - (b + c)')).toBe('a - (b + c)');
    expect(L('a + (b + c)')).toBe('a + b + c');
    expect(L('-(a + b)')).toBe('-(a + b)');
    expect(L('a*(-b)')).toBe('a (-b)');
    expect(L('a - -b')).toBe('a - (-b)');
    expect(L('(a + b)*(c - d)')).toBe('(a + b) (c - d)');
    expect(L('a*b*c')).toBe('a b c');
    expect(L('-x^2')).toBe('-x^2');
    expect(L('(-x)^2')).toBe('(-x)^2');
    expect(L('(a + b)^2')).toBe('(a + b)^2');
  });
  it('uses \\cdot only between numbers and before a number', () => {
    expect(L('2*3')).toBe('2 \\cdot 3');
    expect(L('x*2')).toBe('x \\cdot 2');
    expect(L('2*x')).toBe('2 x');
    expect(L('3*(-2)')).toBe('3 (-2)');
  });
  it('puts a thin space between applied factors and before δ', () => {
    expect(L('x[i](t)*x[i](s)')).toBe('x_i(t)\\, x_i(s)');
    expect(L(mul(call('tanh', at('x')), call('tanh', at('x', s))))).toBe('\\tanh(x(t))\\, \\tanh(x(s))');
    expect(L(mul(sym('D'), call('delta', sub(t, s))))).toBe('D\\, \\delta(t - s)');
    expect(L(mul(num(2), call('delta', sub(t, s))))).toBe('2 \\delta(t - s)');
  });
});

describe('fractions', () => {
  it('writes negative powers as fractions', () => {
    expect(L('a/b')).toBe('\\frac{a}{b}');
    expect(L('g^2/N')).toBe('\\frac{g^2}{N}');
    expect(L('(a + b)/c')).toBe('\\frac{a + b}{c}');
    expect(L('a/(b*c)')).toBe('\\frac{a}{b c}');
    expect(L('x/y/z')).toBe('\\frac{x}{y z}');
    expect(L('x^-2')).toBe('\\frac{1}{x^2}');
    expect(L('1/x^2')).toBe('\\frac{1}{x^2}');
    expect(L('2*x/3')).toBe('\\frac{2 x}{3}');
    expect(L('-x/2')).toBe('-\\frac{x}{2}');
    expect(L(pow(sym('x'), num(-0.5)))).toBe('\\frac{1}{\\sqrt{x}}');
  });
  it('pulls 1/α out in front of sums, integrals and averages', () => {
    expect(L('-(1/alpha)*sum(mu, X[mu,i]*r[mu])')).toBe('-\\frac{1}{\\alpha} \\sum_{\\mu} X_{\\mu i} r_{\\mu}');
    expect(L(mul(num(-1), pow(sym('alpha'), num(-1)), integral('s', num(0), t, mul(op('R', t, s), at('r', s))))))
      .toBe('-\\frac{1}{\\alpha} \\int_{0}^{t} \\mathrm{d}s\\, R(t, s)\\, r(s)');
    expect(L(mul(num(0.5), avg('N', pow(at('x'), num(2)))))).toBe('\\frac{1}{2} \\left\\langle x(t)^2 \\right\\rangle');
  });
  it('writes coefficients 1/2, 1/3, 1/4 as fractions, other decimals as decimals', () => {
    expect(L('0.5*x')).toBe('\\frac{x}{2}');
    expect(L(mul(num(1 / 3), sym('x')))).toBe('\\frac{x}{3}');
    expect(L(mul(num(-0.25), sym('x')))).toBe('-\\frac{x}{4}');
    expect(L('0.1*x')).toBe('0.1 x');
    expect(L('0.5')).toBe('0.5');
  });
  it('pulls a tall numerator out: (1/α)(…)', () => {
    const e = mul(num(-1), add(at('eta'), mul(sym('alpha'), integral('s', num(0), t, mul(op('R', t, s), at('w', s))))), pow(sym('alpha'), num(-1)));
    expect(L(e)).toBe('-\\frac{1}{\\alpha} \\left( \\eta(t) + \\alpha \\int_{0}^{t} \\mathrm{d}s\\, R(t, s)\\, w(s) \\right)');
  });
  it('parenthesizes a fraction under a power', () => {
    expect(L('(a/b)^2')).toBe('\\left( \\frac{a}{b} \\right)^2');
  });
});

describe('powers', () => {
  it('braces exponents that are more than one character', () => {
    expect(L('x^2')).toBe('x^2');
    expect(L('x^(a + b)')).toBe('x^{a + b}');
    expect(L('a^b^c')).toBe('a^{b^c}');
    expect(L('x^12')).toBe('x^{12}');
    expect(L('x^0.5')).toBe('\\sqrt{x}');
  });
  it('writes powers of named functions as \\tanh^2(x)', () => {
    expect(L('tanh(x)^2')).toBe('\\tanh^2(x)');
    expect(L('erf(x)^2')).toBe('\\operatorname{erf}^2(x)');
  });
  it('parenthesizes bases that already carry a superscript', () => {
    expect(L('wstar^2')).toBe('(w^*)^2');
    expect(L('sigma2^2')).toBe('(\\sigma^2)^2');
    expect(L('exp(x)^2')).toBe('(e^{x})^2');
    expect(L('sqrt(x)^3')).toBe('(\\sqrt{x})^3');
    expect(L('x[i]^2')).toBe('x_i^2');
    expect(L(pow(sym("s'"), num(2)))).toBe("s'^2");
    expect(L(pow(at('x', sym("s'")), num(2)))).toBe("x(s')^2");
    expect(L(pow(ref('wstar', ['i']), num(2)))).toBe('(w_i^*)^2');
    expect(L(pow(sym('J0'), num(2)))).toBe('J_0^2');
    expect(L(pow(sym('x12'), num(2)))).toBe('x_{12}^2');
    expect(L(pow(sym('var'), num(2)))).toBe('\\mathrm{var}^2');
    expect(L(pow(sym('sigma2'), num(2)), { names: { sigma2: 'D^{0}' } })).toBe('(D^{0})^2');
  });
});

describe('functions', () => {
  it('uses the standard operators', () => {
    expect(L('tanh(x)')).toBe('\\tanh(x)');
    expect(L('log(x) + sin(x)*cos(x)')).toBe('\\log(x) + \\sin(x)\\, \\cos(x)');
    expect(L('erf(x) + relu(x) + sigmoid(x) + sign(x)'))
      .toBe('\\operatorname{erf}(x) + \\operatorname{relu}(x) + \\operatorname{sigmoid}(x) + \\operatorname{sgn}(x)');
    expect(L('sqrt(x^2 + 1)')).toBe('\\sqrt{x^2 + 1}');
    expect(L('abs(x - y)')).toBe('\\lvert x - y \\rvert');
    expect(L('abs(x/y)')).toBe('\\left\\lvert \\frac{x}{y} \\right\\rvert');
    expect(L(call('delta', sub(t, s)))).toBe('\\delta(t - s)');
  });
  it('writes short exponentials as e^{…} and tall ones as \\exp', () => {
    expect(L('exp(-x)')).toBe('e^{-x}');
    expect(L('exp(-2*lambda*t)')).toBe('e^{-2 \\lambda t}');
    expect(L('exp(-x^2/2)')).toBe('\\exp\\left( -\\frac{x^2}{2} \\right)');
  });
  it('uses \\left( \\right) around tall arguments', () => {
    expect(L('tanh(x/2)')).toBe('\\tanh\\left( \\frac{x}{2} \\right)');
  });
  it('writes responses as functional derivatives, bracketing a compound f', () => {
    expect(L(call('fder', at('x'), at('eta', s)))).toBe('\\frac{\\delta x(t)}{\\delta \\eta(s)}');
    expect(L(call('fder', sub(at('w'), ref('wstar')), at('xi', s)))).toBe('\\frac{\\delta [w(t) - w^*]}{\\delta \\xi(s)}');
  });
});

describe('comparisons', () => {
  it('uses Iverson brackets', () => {
    expect(L('n[i] > 0.001')).toBe('[n_i > 0.001]');
    expect(L('x >= y')).toBe('[x \\ge y]');
    expect(L('x <= y')).toBe('[x \\le y]');
    expect(L('x*(y < 1)')).toBe('x [y < 1]');
  });
});

describe('sums, means, averages, integrals', () => {
  it('writes sums with the index below', () => {
    expect(L('sum(j, J[i,j]*tanh(x[j]))')).toBe('\\sum_{j} J_{ij} \\tanh(x_j)');
    expect(L('sum(j, a[j] + b[j])')).toBe('\\sum_{j} (a_j + b_j)');
    expect(L('sum(j, x[j]) + y')).toBe('\\sum_{j} x_j + y');
  });
  it('parenthesizes a sum that is not the last factor', () => {
    expect(L('sum(j, x[j])*y')).toBe('\\left( \\sum_{j} x_j \\right) y');
    expect(L('y*sum(j, x[j])')).toBe('y \\sum_{j} x_j');
    expect(L('sum(j, x[j])^2')).toBe('\\left( \\sum_{j} x_j \\right)^2');
  });
  it('puts a number first in a denominator, as in a product', () => {
    // the exact ½ is the factor 2^(-1), which sorts after √D in the product
    expect(L(mul(sym('x'), pow(sym('D'), num(-0.5)), pow(num(2), num(-1))))).toBe('\\frac{x}{2 \\sqrt{D}}');
  });
  it('writes means as (1/N) Σ when the size is known, else 𝔼_i', () => {
    expect(L('mean(i, x[i]^2)', { sizes: { i: 'N' } })).toBe('\\frac{1}{N} \\sum_{i} x_i^2');
    expect(L('mean(mu, r[mu]^2)/2', { sizes: { mu: 'P' } })).toBe('\\frac{1}{2} \\frac{1}{P} \\sum_{\\mu} r_{\\mu}^2');
    expect(L('mean(i, x[i]^2)')).toBe('\\mathbb{E}_{i} x_i^2');
    // the size comes from the system's populations too
    expect(L('mean(i, tanh(x[i]))', { system: scs() })).toBe('\\frac{1}{N} \\sum_{i} \\tanh(x_i)');
  });
  it('writes single-site averages with angle brackets', () => {
    expect(L(avg('N', mul(at('x'), at('x', s))))).toBe('\\left\\langle x(t)\\, x(s) \\right\\rangle');
    expect(L(avg('N', add(at('x'), num(1))))).toBe('\\left\\langle x(t) + 1 \\right\\rangle');
  });
  it('writes integrals with the measure first', () => {
    expect(L(integral('s', num(0), t, mul(op('R', t, s), at('x', s))))).toBe('\\int_{0}^{t} \\mathrm{d}s\\, R(t, s)\\, x(s)');
    expect(L(integral('s', num(0), t, add(at('x', s), num(1))))).toBe('\\int_{0}^{t} \\mathrm{d}s\\, (x(s) + 1)');
    expect(L(integral('s', num(0), t, neg(at('x', s))))).toBe('\\int_{0}^{t} \\mathrm{d}s\\, (-x(s))');
  });
  it('nests integrals', () => {
    const e = integral('s', num(0), t, integral('u', num(0), s, mul(op('K', s, sym('u')), at('x', sym('u')))));
    expect(L(e)).toBe('\\int_{0}^{t} \\mathrm{d}s \\int_{0}^{s} \\mathrm{d}u\\, K(s, u)\\, x(u)');
    expect(L(mul(integral('s', num(0), t, at('x', s)), sym('y')))).toBe('\\left( \\int_{0}^{t} \\mathrm{d}s\\, x(s) \\right) y');
    expect(L(add(integral('s', num(0), t, at('x', s)), at('y')))).toBe('\\int_{0}^{t} \\mathrm{d}s\\, x(s) + y(t)');
    expect(L(mul(sym('tau'), integral('tau', sym('t_0'), t, at('x', sym('tau')))))).toBe('\\tau \\int_{t_0}^{t} \\mathrm{d}\\tau\\, x(\\tau)');
  });
});

describe('order parameters', () => {
  it('derives the subscript from f: C_{\\tanh x}, M_{\\tanh x}, C_x, R_x', () => {
    const sys = scs();
    expect(L(op('C_phi', t, s), { system: sys })).toBe('C_{\\tanh x}(t, s)');
    expect(L(op('M_phi', t), { system: sys })).toBe('M_{\\tanh x}(t)');
    const lin = linearPartialSym();
    expect(L(op('C_x', t, s), { system: lin })).toBe('C_{x}(t, s)');
    expect(L(op('R_x', t, s), { system: lin })).toBe('R_{x}(t, s)');
    expect(orderParamSymbol('R_v', { system: regression() })).toBe('R_{w - w^*}');
  });
  it('names the slot when two responses share f, R_{n \\leftarrow \\eta_1}', () => {
    const sys = kitchenSink();
    expect(L(op('R1', t, s), { system: sys })).toBe('R_{n \\leftarrow \\eta_1}(t, s)');
    expect(L(op('R2', t, s), { system: sys })).toBe('R_{n \\leftarrow \\eta_2}(t, s)');
  });
  it('numbers order parameters that cannot be told apart otherwise', () => {
    const sys = scs();
    sys.orderParams.push({ ...sys.orderParams[1], name: 'C_phi_again' });
    expect(L(op('C_phi', t, s), { system: sys })).toBe('C_{\\tanh x}^{(1)}(t, s)');
    expect(L(op('C_phi_again', t, s), { system: sys })).toBe('C_{\\tanh x}^{(2)}(t, s)');
  });
  it('falls back to the name without a system', () => {
    expect(L(op('C', t, s))).toBe('C(t, s)');
    expect(L(op('C[tanh(x)]', t, s))).toBe('\\mathrm{C[tanh(x)]}(t, s)');
  });
  it('prints powers and products of order parameters', () => {
    const sys = scs();
    expect(L(mul(pow(sym('g'), num(2)), op('C_phi', t, s)), { system: sys })).toBe('g^2 C_{\\tanh x}(t, s)');
    expect(L(pow(op('M_phi', t), num(2)), { system: sys })).toBe('M_{\\tanh x}(t)^2');
  });
});

describe('reference results (docs/conventions.md)', () => {
  it('SCS', () => {
    const p = scs().populations[0].variables[0];
    expect(L(p.rhs, { system: scs() })).toBe('-x(t) + J_0 M_{\\tanh x}(t) + \\eta(t)');
  });
  it('partially symmetric linear network', () => {
    const sys = linearPartialSym();
    expect(L(sys.populations[0].variables[0].rhs, { system: sys }))
      .toBe('-x(t) + \\eta(t) + \\kappa g^2 \\int_{0}^{t} \\mathrm{d}s\\, R_{x}(t, s)\\, x(s) + \\xi(t)');
  });
  it('gradient-flow regression', () => {
    const sys = regression();
    expect(L(sys.populations[0].variables[0].rhs, { system: sys })).toBe('-\\frac{\\xi(t)}{\\alpha} - \\int_{0}^{t} \\mathrm{d}s\\, R_{r}(t, s) (w(s) - w^*)');
    expect(L(sys.populations[1].variables[0].rhs, { system: sys }))
      .toBe('\\zeta(t) - \\varepsilon - \\frac{1}{\\alpha} \\int_{0}^{t} \\mathrm{d}s\\, R_{w - w^*}(t, s)\\, r(s)');
  });
});

describe('determinism', () => {
  it('prints equal trees identically, also after a JSON round trip', () => {
    const sys = regression();
    const again = JSON.parse(JSON.stringify(regression()));
    for (let k = 0; k < sys.populations.length; k++) {
      expect(toLatex(again.populations[k].variables[0].rhs, { system: again })).toBe(toLatex(sys.populations[k].variables[0].rhs, { system: sys }));
    }
  });
  it('is the same in both flavors', () => {
    const sys = linearPartialSym();
    expect(toLatex(sys.populations[0].variables[0].rhs, { system: sys, flavor: 'katex' })).toBe(toLatex(sys.populations[0].variables[0].rhs, { system: sys, flavor: 'paper' }));
  });
  it('handles deep trees without blowing up', () => {
    let e: Expr = sym('x');
    for (let k = 0; k < 200; k++) e = mul(num(2), add(e, pow(sym('y'), num(-1))));
    const out = toLatex(e);
    expect(out.length).toBeGreaterThan(1000);
  });
});
