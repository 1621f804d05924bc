//! The ALPHA betting martingale (P. B. Stark 2023, "ALPHA: Audit that learns from previously
//! hand-audited ballots", Ann. Appl. Stat. 17(1)): a test of "the mean of an assorter
//! `x ∈ [0, u]` over the ballots is at most `μ = ½`". After draw `j` the statistic is
//! `T_j = T_{j−1} · (x_j·η_j/μ_j + (u − x_j)(u − η_j)/(u − μ_j)) / u`, where `η_j` is a bet on
//! the mean fixed before draw `j` — here the paper's truncated shrinkage estimator
//! `η_j = min(u(1 − 10⁻⁹), max((d·η₀ + S_{j−1})/(d + j − 1), μ_j + (η₀ − μ)/(2√(d + j − 1))))`
//! from the prior guess `η₀` (the reported mean) and the sum `S_{j−1}` of the values seen — and
//! `μ_j` is the null mean of what is left: `½` with replacement, `(N/2 − S_{j−1})/(N − j + 1)`
//! without. By Ville's inequality `P = min(1, 1/max_j T_j)` is a valid P-value at any stopping
//! time. For ballot polling `x` is the assorter of the paper ballot; for comparison it is the
//! comparison assorter of the overstatement (see [`super::comparison`]).

/// The ALPHA test of one assertion, updated one draw at a time.
#[derive(Clone, Debug)]
pub struct Alpha {
    u: f64,
    eta0: f64,
    d: f64,
    population: Option<f64>,
    sum: f64,
    draws: u64,
    log_t: f64,
    max_log_t: f64,
    /// The null mean of what is left became negative: the assertion holds whatever remains.
    proven: bool,
}

/// The shrinkage weight `d` used throughout (Stark 2023 uses 10 to 1,000; SHANGRLA's default).
pub const ALPHA_D: f64 = 100.0;

impl Alpha {
    /// A test of an assorter bounded by `u` with prior guess `eta0` (> ½ for the test to have
    /// power), sampling with replacement (`population = None`) or without from `N` ballots.
    pub fn new(u: f64, eta0: f64, population: Option<u64>) -> Alpha {
        Alpha {
            u,
            eta0: eta0.min(u * (1.0 - 1e-9)),
            d: ALPHA_D,
            population: population.map(|n| n as f64),
            sum: 0.0,
            draws: 0,
            log_t: 0.0,
            max_log_t: 0.0,
            proven: false,
        }
    }

    /// Takes the assorter value of the next draw.
    pub fn observe(&mut self, x: f64) {
        if self.proven {
            return;
        }
        let j = self.draws as f64 + 1.0;
        let mu = match self.population {
            None => 0.5,
            Some(n) => {
                if j > n {
                    return;
                }
                (n * 0.5 - self.sum) / (n - j + 1.0)
            }
        };
        self.draws += 1;
        self.sum += x;
        if mu <= 0.0 {
            self.proven = true;
            self.max_log_t = f64::INFINITY;
            return;
        }
        let u = self.u;
        if mu >= u {
            self.log_t = f64::NEG_INFINITY;
            return;
        }
        let dj = self.d + j - 1.0;
        let shrunk = (self.d * self.eta0 + self.sum - x) / dj;
        let floor = mu + (self.eta0 - 0.5) / (2.0 * dj.sqrt());
        let eta = shrunk.max(floor).min(u * (1.0 - 1e-9));
        let factor = (x * eta / mu + (u - x) * (u - eta) / (u - mu)) / u;
        self.log_t += factor.ln();
        if self.log_t > self.max_log_t {
            self.max_log_t = self.log_t;
        }
    }

    /// Draws taken.
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// `min(1, 1/max T)`.
    pub fn p_value(&self) -> f64 {
        (-self.max_log_t).exp().min(1.0)
    }
}
