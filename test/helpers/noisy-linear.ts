// A small model whose every sweep point is solved in well under a second, with
// a closed form (stationary var = s2/(2·a·√(1 − (g/a)²)) for asymmetric J): the
// sweep tests and the sweep benchmark share it.
export const NOISY_LINEAR_MODEL = `model "noisy linear network"
param g = 0.5, a = 1, s2 = 1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(s2)
state x[i]
init x[i] = 0
d/dt x[i] = -a*x[i] + sum(j, J[i,j]*x[j]) + xi[i]
observe q = mean(i, x[i]^2)
`;
