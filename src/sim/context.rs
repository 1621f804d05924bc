//! What one run needs to know ([`Context`]) and which stations each fraud model may target
//! ([`FraudPlan`]).

use super::machine::LedgerMode;
use crate::electorate::Electorate;
use crate::fraud::StationFacts;
use crate::model::{Model, Scenario};
use crate::rng::StreamRng;

/// What one run needs to know: the model, its electorate, the seed, what voting machines do
/// with ballots, and the election id their ledgers are bound to.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub model: &'a Model,
    pub electorate: &'a Electorate,
    pub seed: u64,
    pub ledger: LedgerMode,
    pub election_id: [u8; 32],
    /// Which stations each fraud model may target.
    pub plan: &'a FraudPlan,
    /// Whether heads are published at close (a rewritten ledger is then checked against them).
    pub heads_published: bool,
    /// Probability that an electronic voter checks their receipt / control code.
    pub receipt_rate: f64,
    pub control_code_rate: f64,
    /// Whether the run keeps its paper record (`Workspace::published().paper`) for audits.
    pub paper_record: bool,
}

/// Static eligibility of stations for each fraud model of a variant (area, kind, region,
/// strongholds); the per-run share-of-stations draw happens on election day.
#[derive(Clone, Debug, Default)]
pub struct FraudPlan {
    /// `eligible[j][station]` for fraud model `j`.
    pub eligible: Vec<Vec<bool>>,
}

impl FraudPlan {
    pub fn new(model: &Model, e: &Electorate) -> FraudPlan {
        let eligible = model
            .fraud
            .iter()
            .map(|f| {
                let strong = if f.target.strongholds {
                    e.strongholds(f.beneficiary as usize)
                } else {
                    vec![false; e.stations.len()]
                };
                e.stations
                    .iter()
                    .enumerate()
                    .map(|(i, st)| {
                        f.target.eligible(&StationFacts {
                            region: st.region,
                            urban: st.urban,
                            evoting: st.evoting,
                            stronghold: strong[i],
                        })
                    })
                    .collect()
            })
            .collect();
        FraudPlan { eligible }
    }
}

impl<'a> Context<'a> {
    /// The context of variant `variant`'s runs: its model, electorate and fraud plan, with the
    /// scenario's election id and detector settings (heads published, receipt and control-code
    /// check rates). The Monte Carlo loop and election packages both build it here.
    pub fn new(
        scenario: &'a Scenario,
        variant: usize,
        electorate: &'a Electorate,
        plan: &'a FraudPlan,
        seed: u64,
        ledger: LedgerMode,
    ) -> Context<'a> {
        let d = &scenario.detectors;
        Context {
            model: &scenario.variants[variant].model,
            electorate,
            seed,
            ledger,
            election_id: scenario.digest_bytes(),
            plan,
            heads_published: d.heads_published,
            receipt_rate: d.receipt_check_rate,
            control_code_rate: d.control_code_rate,
            paper_record: d.rla_risk_limit.is_some(),
        }
    }

    /// Which fraud models act at station `i` in this run: one uniform draw per model from the
    /// station's `Fraud` stream (drawn for every model, so targeting of one model does not shift
    /// another's), compared with the model's share of eligible stations.
    pub(super) fn targeted(&self, i: usize, frng: &mut StreamRng, out: &mut Vec<bool>) {
        out.clear();
        for (j, f) in self.model.fraud.iter().enumerate() {
            let u = crate::rng::unit(frng);
            out.push(self.plan.eligible[j][i] && u < f.target.stations);
        }
    }
}
