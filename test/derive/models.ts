// Models beyond examples/ that exercise paths of the derivation the examples
// do not (a coupling sum inside a nonlinearity, outside factors with
// multiplicative noise, a matrix used as itself and as its transpose in one
// equation, two matrices over two populations, mean(…) in the dynamics, three
// populations with two lets), vector single-site processes (several
// variables per site, correlated fields, initial conditions on site-local
// inputs; VECTOR_MODELS, beyond the examples), and models written in paper
// notation (prefactors with sizes, sums normalized by hand, ratios,
// non-Gaussian entries). Shared by msr-equivalence.test.ts, trace.test.ts
// and vector.test.ts.

export const INLINE_MODELS: Record<string, string> = {
  'map: a coupling correlated with its transpose (reaction over past steps), a sum inside tanh': `model "correlated map"
param g = 0.8, k = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = k
state x[i]
init x[i] ~ normal(0, 1)
x[i](t+1) = 0.5*x[i] + tanh(sum(j, J[i,j]*x[j]))
observe q = mean(i, x[i]^2)
`,
  'map: two states per site (heavy-ball momentum on linear regression)': `model "momentum map"
param alpha = 2, lr = 0.3, beta = 0.5
index i in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random wstar[i] ~ normal(0, 1)
state w[i]
state v[i]
init w[i] = 0
init v[i] = 0
let r[mu] = sum(i, X[mu,i]*(w[i] - wstar[i]))
v[i](t+1) = beta*v[i] - lr/alpha*sum(mu, X[mu,i]*r[mu])
w[i](t+1) = w[i] + beta*v[i] - lr/alpha*sum(mu, X[mu,i]*r[mu])
observe test = mean(i, (w[i] - wstar[i])^2)/2
`,
  'coupling sum inside tanh (local field h, conjugate hhat)': `model "tanh of field"
param g = 1.2
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = 0.3
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + tanh(sum(j, J[i,j]*x[j]))
observe var = mean(i, x[i]^2)
`,
  'outside factor, symmetric couplings with a mean, multiplicative noise': `model "outside factor"
param g = 0.5
index i, j in 1..N
random J[i,j] ~ normal(1/N, g^2/N), symmetric
noise xi[i] ~ white(0.1)
state x[i]
init x[i] = 1
d/dt x[i] = x[i]*(1 - x[i] - sum(j, x[i]*J[i,j]*tanh(x[j]))) + x[i]*xi[i]
observe m = mean(i, x[i])
`,
  'two matrices, one correlated with its transpose': `model "two sums"
param g = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
random K[i,j] ~ normal(0, 1/N), corr(K[i,j], K[j,i]) = 0.4
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j])) + sum(j, K[i,j]*x[j])
observe var = mean(i, x[i]^2)
`,
  'J and its transpose in one equation (independent entries)': `model "J and J^T"
param g = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j])) + sum(j, J[j,i]*x[j])
observe var = mean(i, x[i]^2)
`,
  'J and its transpose entering alike (equal conjugate sources, two fields)': `model "J and J^T alike"
param g = 0.7
index i, j in 1..N
random w0[i] ~ normal(0, 1)
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] - sum(j, J[j,i]*(x[j] - w0[j])) - sum(j, J[i,j]*(x[j] - w0[j]))
`,
  'two populations, a matrix used both ways plus a second matrix': `model "two populations, two matrices"
param a = 0.5
index i in 1..N
index mu in 1..P
ratio P/N = a
random X[mu,i] ~ normal(0, 1/N)
random Y[i,mu] ~ normal(0, 1/N)
state x[i]
state y[mu]
init x[i] = 0
init y[mu] = 0
d/dt x[i] = -x[i] + sum(mu, X[mu,i]*tanh(y[mu])) + sum(mu, Y[i,mu]*y[mu])
d/dt y[mu] = -y[mu] + sum(i, X[mu,i]*x[i])
observe v = mean(i, x[i]^2)
`,
  'mean(…) in the dynamics, a quenched vector inside the summand': `model "mean in dynamics"
param g = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), symmetric
random u[i] ~ normal(1, 1)
state x[i]
init x[i] ~ uniform(0, 1)
d/dt x[i] = -x[i] + mean(j, tanh(x[j])) + sum(j, J[i,j]*u[j]*x[j])
observe m = mean(i, x[i])
`,
  'noise multiplying a coupling sum (local field)': `model "multiplicative noise on a field"
param g = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = 0.3
noise xi[i] ~ white(0.5)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j])*xi[i] + 2*xi[i]
`,
  'random features: three populations, two lets, two rectangular matrices': `model "random features regression"
param alpha = 2, beta = 1.5
index i in 1..D
index mu in 1..P
index k in 1..M
ratio P/D = alpha
ratio M/D = beta
random F[k,i] ~ normal(0, 1/D)
random X[mu,k] ~ normal(0, 1/M)
random y[mu] ~ normal(0, 1)
state a[k]
init a[k] = 0
let r[mu] = sum(k, X[mu,k]*a[k]) - y[mu]
let h[i] = sum(k, F[k,i]*a[k])
d/dt a[k] = -sum(mu, X[mu,k]*r[mu]) - 0.1*sum(i, F[k,i]*h[i])
observe train = mean(mu, r[mu]^2)/2
`,
  'a fractional power of a quenched vector inside the summand (exact 1/2, not the float 0.5)': `model "weighted regression"
param alpha = 2, a = 1, sigma = 0.1
index i in 1..N
index mu in 1..P
ratio P/N = alpha
random X[mu,i] ~ normal(0, 1/N)
random u[i] ~ uniform(0.5, 1.5)
random wstar[i] ~ normal(0, 1)
random eps[mu] ~ normal(0, sigma^2)
let r[mu] = sum(i, X[mu,i]*u[i]^(a/2)*(w[i] - wstar[i])) + eps[mu]
state w[i]
init w[i] = 0
d/dt w[i] = -u[i]^(a/2)*sum(mu, X[mu,i]*r[mu])
observe err = mean(i, u[i]^a*(w[i]-wstar[i])^2)/2
`,
};

/** Vector single-site processes not in examples/. */
export const VECTOR_MODELS: Record<string, string> = {
  'tanh random features, other index names in the gradient (Gaussian equivalence, rules ge.*)': `model "tanh features, other index names in the gradient"
param alpha = 2, gamma = 0.7, sigma2 = 0.2, lam = 0.05
index i, j in 1..D
index k in 1..M
index mu, rho in 1..P
ratio P/D = alpha
ratio M/D = gamma
random X[mu,i] ~ normal(0, 1/D)
random W[k,i] ~ normal(0, 1)
random y[mu] ~ normal(0, 1)
state a[k]
init a[k] = 0
let r[mu] = sum(k, tanh(sum(i, W[k,i]*X[mu,i]))*a[k])/sqrt(D) - y[mu]
d/dt a[k] = -sum(rho, tanh(sum(j, W[k,j]*X[rho,j]))*r[rho])/sqrt(D) - lam*a[k]
observe train = mean(mu, r[mu]^2)/2
`,
  'J + b*J^T written as two sums (examples/transpose-mix.dmft as one summand)': `model "linear network driven by J + b*J^T"
param g = 0.5, b = 0.3, kappa = 0.2, sigma2 = 1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = kappa
noise xi[i] ~ white(sigma2)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + sum(j, b*J[j,i]*x[j]) + xi[i]
observe var = mean(i, x[i]^2)
`,
  'a let on the sites of a state (symmetric J)': `model "a let on the sites of a state"
param g = 0.8
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), symmetric
state x[i]
init x[i] ~ normal(0, 1)
let h[i] = sum(j, J[i,j]*tanh(x[j]))
d/dt x[i] = -x[i] + h[i]
observe var = mean(i, x[i]^2)
`,
  'two networks driven by the same couplings (same orientation, two variables)': `model "two networks driven by the same couplings"
param g = 1.5, c = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
state y[i]
init x[i] ~ normal(0, 1)
init y[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j]))
d/dt y[i] = -y[i] + sum(j, J[i,j]*tanh(y[j])) + c*x[i]
observe overlap = mean(i, x[i]*y[i])
`,
  'J + b*J^T on tanh, with a mean and another summed index': `model "J + b J^T on tanh, with a mean"
param g = 1.2, b = 0.5, kappa = 0.3, J0 = 0.4
index i, j, k in 1..N
random J[i,j] ~ normal(J0/N, g^2/N), corr(J[i,j], J[j,i]) = kappa
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(k, (J[i,k] + b*J[k,i])*tanh(x[k]))
observe var = mean(i, x[i]^2)
`,
  'an initial law centred on the teacher': `model "regression initialized around the teacher"
param alpha = 0.5, rho = 0.8
index i in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random wstar[i] ~ normal(0, 1)
state w[i]
init w[i] ~ normal(rho*wstar[i], 0.25)
let r[mu] = sum(i, X[mu,i]*(w[i] - wstar[i]))
d/dt w[i] = -sum(mu, X[mu,i]*r[mu])
observe test = mean(i, (w[i] - wstar[i])^2)/2
`,
  'a let chain on one population (u = tanh(x), h = J u)': `model "a let chain on one population"
param g = 0.9, kappa = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = kappa
state x[i]
init x[i] = 0.5
let u[i] = tanh(x[i])
let h[i] = sum(j, J[i,j]*u[j])
d/dt x[i] = -x[i] + h[i]
observe m = mean(i, u[i])
`,
  'the same sum twice (two perfectly correlated fields)': `model "the same sum twice"
param g = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + x[i]*sum(j, J[i,j]*x[j]) + x[i]*sum(j, J[i,j]*x[j])
`,
};

/** Paper notation: prefactors with sizes, normalized sums, ratios, non-Gaussian entries, a let. */
export const PAPER_MODELS: Record<string, string> = {
  'prefactors, a normalized sum, a ratio, bernoulli and uniform couplings, a let': `model "mixed"
param p = 0.3, g = 1.2, alpha = 2
index i, j in 1..N
index mu in 1..P
ratio P/N = alpha
random A[i,j] ~ bernoulli(p)
random J[i,j] ~ uniform(-1, 1)
random X[mu,i] ~ normal(0, 1)
state x[i]
init x[i] ~ normal(0.5, 1)
let r[mu] = 1/sqrt(N)*sum(i, X[mu,i]*tanh(x[i]))
d/dt x[i] = -x[i] + 2/N*sum(j, A[i,j]*tanh(x[j])) + g*sqrt(3)/sqrt(N)*sum(j, J[i,j]*tanh(x[j])) - sqrt(alpha)/sqrt(P)*sum(mu, X[mu,i]*r[mu]) + sum(j, x[j])/N
observe m = sum(i, x[i])/N
`,
  'transpose correlation with prefactors on both sides, a negative prefactor': `model "signed"
param g = 0.8, c = 0.4
index i, j in 1..N
random J[i,j] ~ normal(0, 1), corr(J[i,j], J[j,i]) = c
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] - g/sqrt(N)*sum(j, J[i,j]*x[j])
observe var = mean(i, x[i]^2)
`,
  'a prefactor inside the sum and a prefactor reaching into a power': `model "inside"
param g = 1.1
index i, j in 1..N
random J[i,j] ~ normal(0, 1)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, g/sqrt(N)*J[i,j]*tanh(x[j])) + (N*tanh(x[i]))^2/N^2
`,
};
