//! Published or theoretical numbers a run reproduces, stated in full: the quantity, the expected value and where
//! it comes from (seed file and equation / table / section, or SPEC §), the measured value, the tolerance rule and
//! the verdict. Studies push [`Comparison`]s into [`super::StudyOutput::comparisons`]; they are written as the
//! `comparisons` list of summary.json.

use serde::{Deserialize, Serialize};

/// How measured and expected values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tolerance {
    /// |measured − expected| ≤ value.
    Absolute { value: f64 },
    /// |measured − expected| ≤ value · |expected|.
    Relative { value: f64 },
    /// measured ≤ expected (the expected value is a bound or a target to reach, e.g. a loss or an error).
    AtMost,
    /// measured ≥ expected.
    AtLeast,
    /// measured = expected exactly (integers: ranks, depths).
    Exact,
}

impl Tolerance {
    /// The rule in words, e.g. "|measured − expected| ≤ 0.1".
    pub fn rule(self) -> String {
        match self {
            Tolerance::Absolute { value } => format!("|measured − expected| ≤ {value}"),
            Tolerance::Relative { value } => format!("|measured − expected| ≤ {value} · |expected|"),
            Tolerance::AtMost => "measured ≤ expected".into(),
            Tolerance::AtLeast => "measured ≥ expected".into(),
            Tolerance::Exact => "measured = expected".into(),
        }
    }

    /// Whether `measured` agrees with `expected` under this rule (false for a non-finite measurement).
    pub fn holds(self, expected: f64, measured: f64) -> bool {
        if !measured.is_finite() {
            return false;
        }
        match self {
            Tolerance::Absolute { value } => (measured - expected).abs() <= value,
            Tolerance::Relative { value } => (measured - expected).abs() <= value * expected.abs(),
            Tolerance::AtMost => measured <= expected,
            Tolerance::AtLeast => measured >= expected,
            Tolerance::Exact => measured == expected,
        }
    }
}

/// The outcome of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

/// One reproduced number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// What is compared, e.g. "Euler order on `linear`".
    pub quantity: String,
    pub expected: f64,
    /// Where the expected value comes from: seed file and equation/table/section, or SPEC §.
    pub source: String,
    pub measured: f64,
    pub tolerance: Tolerance,
    /// [`Tolerance::rule`], for readers of the JSON.
    pub rule: String,
    pub verdict: Verdict,
    /// Anything a reader needs to interpret the numbers (spread over seeds, which error the verdict uses, …).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

impl Comparison {
    /// A comparison with its verdict computed from the rule.
    pub fn new(
        quantity: impl Into<String>,
        expected: f64,
        measured: f64,
        tolerance: Tolerance,
        source: impl Into<String>,
    ) -> Self {
        Comparison {
            quantity: quantity.into(),
            expected,
            source: source.into(),
            measured,
            tolerance,
            rule: tolerance.rule(),
            verdict: if tolerance.holds(expected, measured) {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            note: None,
        }
    }

    /// With a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// True when the verdict is pass.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_rules() {
        let abs = Tolerance::Absolute { value: 0.1 };
        assert!(Comparison::new("p", 1.0, 1.05, abs, "SPEC §2").passed());
        assert!(!Comparison::new("p", 1.0, 1.2, abs, "SPEC §2").passed());
        assert!(!Comparison::new("p", 1.0, f64::NAN, abs, "SPEC §2").passed());
        assert!(Comparison::new("loss", 2.93e-5, 1.3e-7, Tolerance::AtMost, "002 §22.6.1").passed());
        assert!(!Comparison::new("err", 1e-6, 3e-4, Tolerance::AtMost, "003").passed());
        assert!(Comparison::new("rank", 12.0, 12.0, Tolerance::Exact, "SPEC §5").passed());
        assert!(!Comparison::new("x", 10.0, 12.0, Tolerance::Relative { value: 0.1 }, "s").passed());
        let v = serde_json::to_value(Comparison::new("p", 4.0, 4.01, abs, "SPEC §2").note("n")).unwrap();
        for k in [
            "quantity",
            "expected",
            "source",
            "measured",
            "tolerance",
            "rule",
            "verdict",
            "note",
        ] {
            assert!(v.get(k).is_some(), "missing {k}: {v}");
        }
        assert_eq!(v["verdict"], "pass");
        assert_eq!(v["tolerance"]["kind"], "absolute");
    }
}
