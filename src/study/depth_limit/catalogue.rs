//! The thesis' C10k model classes and published tables (seed 004, Table 4.2 for the hyper-parameters; Tables 4.3,
//! 4.4 and B.4 for ‖𝒲^{(L)}‖_{1-var}, the maximum over 3 seeds, L = 2^7 … 2^15), and which published cells are
//! float32 round-off rather than mathematics (SPEC §6).
//!
//! A model name is the class (`B11` … `C23`) followed by the initialisation: `c` constant W_k = m_L, `t` the
//! truncated normal of SPEC §6's first reading (σ = m_L truncated at ±1σ, the one the tables match), and `t-sqrt`
//! its second reading (σ = √m_L truncated at ±m_L, ≈ uniform on [−m_L, m_L]), which is compared with the same
//! published `t` column to show how far it lies. m_L = L^{−1/γ−β}/2, β = 1 − α.

/// How the weights W_k are initialised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// W_k = m_L for every k.
    Constant,
    /// N(0, m_L²) truncated at ±m_L (±1σ).
    TruncatedSigma,
    /// N(0, m_L) (standard deviation √m_L) truncated at ±m_L.
    TruncatedSqrt,
}

impl Init {
    /// Name suffix after the class.
    pub fn suffix(self) -> &'static str {
        match self {
            Init::Constant => "c",
            Init::TruncatedSigma => "t",
            Init::TruncatedSqrt => "t-sqrt",
        }
    }
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Init::Constant => "constant W_k = m_L",
            Init::TruncatedSigma => "truncated normal, σ = m_L, truncated at ±1σ",
            Init::TruncatedSqrt => "truncated normal, σ = √m_L, truncated at ±m_L",
        }
    }
    /// Truncated (random) initialisation.
    pub fn is_truncated(self) -> bool {
        self != Init::Constant
    }
}

/// The power of L in a learning rate η = c·L^e.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LrPower {
    /// e = β.
    Beta,
    /// e = α − β.
    AlphaMinusBeta,
}

/// One hyper-parameter class of Table 4.2 (d = 1, tanh, T_L = ⌈5 ln L⌉).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Class {
    /// `B11` … `C23`.
    pub name: &'static str,
    /// δ_L = L^{−α}.
    pub alpha: f64,
    /// Initial increment scale L^{−1/γ−β}.
    pub gamma: f64,
    /// Learning-rate factor c of η = c·L^e.
    pub lr_scale: f64,
    /// Learning-rate power e.
    pub lr_power: LrPower,
}

impl Class {
    /// β = 1 − α.
    pub fn beta(&self) -> f64 {
        1.0 - self.alpha
    }
    /// η at depth L.
    pub fn lr(&self, l: f64) -> f64 {
        let e = match self.lr_power {
            LrPower::Beta => self.beta(),
            LrPower::AlphaMinusBeta => self.alpha - self.beta(),
        };
        self.lr_scale * l.powf(e)
    }
    /// The rule as printed in Table 4.2, e.g. `100 L^β`.
    pub fn lr_text(&self) -> String {
        let p = match self.lr_power {
            LrPower::Beta => "L^β",
            LrPower::AlphaMinusBeta => "L^(α−β)",
        };
        if self.lr_scale == 1.0 {
            p.into()
        } else {
            format!("{} {p}", self.lr_scale)
        }
    }
    /// m_L = L^{−1/γ−β}/2 (SPEC §6: the code behind 004).
    pub fn m_l(&self, l: f64) -> f64 {
        0.5 * l.powf(-1.0 / self.gamma - self.beta())
    }
}

const fn class(name: &'static str, alpha: f64, gamma: f64, lr_scale: f64, lr_power: LrPower) -> Class {
    Class {
        name,
        alpha,
        gamma,
        lr_scale,
        lr_power,
    }
}

/// Table 4.2: the C10k model classes.
pub const CLASSES: [Class; 15] = [
    class("B11", 0.975, 1.0, 1.0, LrPower::Beta),
    class("B12", 0.975, 1.0, 100.0, LrPower::Beta),
    class("B13", 0.975, 1.0, 1.0, LrPower::AlphaMinusBeta),
    class("B21", 0.75, 1.0, 1.0, LrPower::Beta),
    class("B22", 0.75, 1.0, 20.0, LrPower::Beta),
    class("B23", 0.75, 1.0, 20.0, LrPower::AlphaMinusBeta),
    class("B31", 0.5, 1.0, 1.0, LrPower::Beta),
    class("B32", 0.5, 1.0, 0.01, LrPower::Beta),
    class("B33", 0.5, 1.0, 1.0, LrPower::AlphaMinusBeta),
    class("C11", 0.25, 1.0, 1.0, LrPower::Beta),
    class("C12", 0.25, 1.0, 0.01, LrPower::Beta),
    class("C13", 0.25, 1.0, 1.0, LrPower::AlphaMinusBeta),
    class("C21", 0.49, 2.0, 1.0, LrPower::Beta),
    class("C22", 0.49, 2.0, 0.01, LrPower::Beta),
    class("C23", 0.49, 2.0, 1.0, LrPower::AlphaMinusBeta),
];

/// Depths of the published tables, 2^7 … 2^15.
pub const TABLE_DEPTHS: [usize; 9] = [128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];

/// One published table: its label and its columns (model name, values at [`TABLE_DEPTHS`]).
pub struct PublishedTable {
    /// File-name label, e.g. `4.3`, `B.4a`.
    pub label: &'static str,
    /// Caption source, e.g. "004 Table 4.3".
    pub source: &'static str,
    /// Columns in the thesis' order.
    pub columns: &'static [(&'static str, [f64; 9])],
}

/// Tables 4.3, 4.4 and B.4 (three parts) of seed 004, as printed.
pub static TABLES: &[PublishedTable] = &[
    PublishedTable {
        label: "4.3",
        source: "004 Table 4.3",
        columns: &[
            (
                "B11c",
                [
                    7.883e-6, 1.118e-6, 2.161e-7, 2.105e-7, 1.453e-7, 2.664e-7, 3.19e-7, 3.336e-7, 2.817e-8,
                ],
            ),
            (
                "B11t",
                [0.3359, 0.3247, 0.3314, 0.3217, 0.3206, 0.3203, 0.3171, 0.3155, 0.3136],
            ),
            (
                "B12c",
                [
                    0.2152, 0.1215, 0.06351, 0.02592, 0.01007, 0.002808, 0.0006477, 0.0001158, 3.639e-5,
                ],
            ),
            (
                "B12t",
                [0.3361, 0.3248, 0.3314, 0.3217, 0.3155, 0.3123, 0.3116, 0.3124, 0.3133],
            ),
            (
                "B13c",
                [0.1925, 0.2077, 0.2284, 0.2343, 0.2565, 0.2656, 0.2787, 0.2844, 0.2908],
            ),
            (
                "B13t",
                [0.3361, 0.3247, 0.3312, 0.3214, 0.3242, 0.3318, 0.3371, 0.3445, 0.3485],
            ),
        ],
    },
    PublishedTable {
        label: "4.4",
        source: "004 Table 4.4",
        columns: &[
            (
                "C11c",
                [
                    1.621e-5, 0.0006409, 0.00531, 122.0, 889.1, 1839.0, 4453.0, 8485.0, 1.454e4,
                ],
            ),
            (
                "C11t",
                [0.6667, 0.766, 0.8511, 123.0, 889.2, 1849.0, 4442.0, 8471.0, 1.457e4],
            ),
            (
                "C13c",
                [
                    0.0002309, 8.583e-5, 3.362e-5, 2.444e-5, 3.946e-5, 7.331e-5, 6.33e-5, 0.0003606, 0.0004196,
                ],
            ),
            (
                "C13t",
                [0.3364, 0.325, 0.3316, 0.3218, 0.3209, 0.3204, 0.3172, 0.3155, 0.3136],
            ),
            (
                "C23c",
                [
                    0.002322, 0.001285, 0.0007176, 0.0003761, 0.0002147, 0.0001513, 0.0001808, 0.0003512, 0.0006418,
                ],
            ),
            ("C23t", [3.806, 5.201, 7.503, 10.3, 14.52, 20.5, 28.71, 40.39, 56.76]),
        ],
    },
    PublishedTable {
        label: "B.4a",
        source: "004 Table B.4 (first part)",
        columns: &[
            (
                "B21c",
                [
                    0.005953, 0.00384, 0.002566, 0.00151, 0.001007, 0.0006001, 0.0003758, 0.0002548, 0.0002724,
                ],
            ),
            (
                "B22c",
                [
                    0.06785, 0.0593, 0.04745, 0.03385, 0.02458, 0.01671, 0.01135, 0.007459, 0.004921,
                ],
            ),
            (
                "B23c",
                [
                    0.02784, 0.02221, 0.01805, 0.01359, 0.01096, 0.008315, 0.0064, 0.004783, 0.003621,
                ],
            ),
            (
                "B31c",
                [
                    0.001726, 0.001436, 0.001128, 0.0007843, 0.0005569, 0.0003412, 0.0002062, 0.0001657, 0.0007312,
                ],
            ),
            (
                "B32c",
                [
                    8.756e-5, 0.0001119, 0.000129, 0.0001181, 0.0001158, 0.0001075, 0.0001628, 0.0002629, 0.0005465,
                ],
            ),
            (
                "B33c",
                [
                    0.002555, 0.001429, 0.0008157, 0.0004325, 0.0002506, 0.0001514, 0.0001799, 0.0002731, 0.0005312,
                ],
            ),
        ],
    },
    PublishedTable {
        label: "B.4b",
        source: "004 Table B.4 (second part)",
        columns: &[
            (
                "B21t",
                [0.336, 0.3248, 0.3314, 0.3218, 0.3192, 0.3193, 0.3165, 0.3151, 0.3133],
            ),
            (
                "B22t",
                [0.3375, 0.3254, 0.3317, 0.3219, 0.3172, 0.3174, 0.3149, 0.3139, 0.3133],
            ),
            (
                "B23t",
                [0.3364, 0.325, 0.3316, 0.3218, 0.3167, 0.3174, 0.315, 0.314, 0.3133],
            ),
            (
                "B31t",
                [0.3385, 0.3262, 0.3323, 0.3222, 0.3232, 0.3203, 0.3179, 0.3156, 0.3133],
            ),
            (
                "B32t",
                [0.3359, 0.3248, 0.3315, 0.3218, 0.3207, 0.3203, 0.3172, 0.3155, 0.3136],
            ),
            (
                "B33t",
                [0.3364, 0.325, 0.3316, 0.3218, 0.3208, 0.3203, 0.3172, 0.3155, 0.3136],
            ),
        ],
    },
    PublishedTable {
        label: "B.4c",
        source: "004 Table B.4 (third part)",
        columns: &[
            (
                "C12c",
                [0.0006413, 6.199e-5, 6.676e-5, 0.0003242, 0.001385, 0.0, 0.0, 0.0, 0.0],
            ),
            (
                "C12t",
                [0.3375, 0.326, 0.3324, 0.3223, 0.3289, 0.3202, 0.3117, 0.3135, 2.477],
            ),
            (
                "C21c",
                [
                    0.001847, 0.001514, 0.001166, 0.0007892, 0.0005322, 0.001684, 0.004433, 0.01412, 0.03595,
                ],
            ),
            ("C21t", [3.831, 5.221, 7.521, 10.31, 14.66, 20.65, 28.85, 40.53, 56.92]),
            (
                "C22c",
                [
                    0.0001022, 0.0001326, 0.0001502, 0.0001354, 0.0001289, 0.0001322, 0.0001849, 0.0004213, 0.00091,
                ],
            ),
            ("C22t", [3.801, 5.197, 7.5, 10.3, 14.52, 20.5, 28.71, 40.39, 56.76]),
        ],
    },
];

/// The class named `name`.
pub fn class_named(name: &str) -> Option<&'static Class> {
    CLASSES.iter().find(|c| c.name == name)
}

/// Parse a model name `<class><c|t|t-sqrt>`.
pub fn parse_model(name: &str) -> Option<(&'static Class, Init)> {
    let (cls, init) = match name.get(3..)? {
        "c" => (&name[..3], Init::Constant),
        "t" => (&name[..3], Init::TruncatedSigma),
        "t-sqrt" => (&name[..3], Init::TruncatedSqrt),
        _ => return None,
    };
    class_named(cls).map(|c| (c, init))
}

/// Every model name [`parse_model`] accepts (for error messages).
pub fn model_names() -> Vec<String> {
    CLASSES
        .iter()
        .flat_map(|c| {
            [Init::Constant, Init::TruncatedSigma, Init::TruncatedSqrt].map(|i| format!("{}{}", c.name, i.suffix()))
        })
        .collect()
}

/// The published column a model is compared with: its own, or for `t-sqrt` the class' `t` column; with the
/// table it belongs to.
pub fn published(model: &str) -> Option<(&'static PublishedTable, &'static [f64; 9])> {
    let key = model.strip_suffix("-sqrt").unwrap_or(model);
    TABLES
        .iter()
        .find_map(|t| t.columns.iter().find(|(n, _)| *n == key).map(|(_, v)| (t, v)))
}

/// The published value of `model` at depth `l`, if the tables have it.
pub fn published_at(model: &str, l: usize) -> Option<f64> {
    let i = TABLE_DEPTHS.iter().position(|&d| d == l)?;
    published(model).map(|(_, v)| v[i])
}

/// Why a published cell is not a number to match, if it is not (SPEC §6): float32 round-off in the code behind
/// 004 (float64 gives values 100–10⁵× smaller), compared only as "below 1e−6".
pub fn round_off(model: &str, l: usize) -> Option<&'static str> {
    match model {
        "B11c" if l >= 512 => Some("float32 round-off in the code behind 004 (SPEC §6): compared as below 1e−6"),
        "C11c" if l <= 512 => Some("float32 round-off in the code behind 004 (SPEC §6): compared as below 1e−6"),
        _ => None,
    }
}

/// The theory's mean 1-variation at t = 0 of one seed (SPEC §6): 0.9337·(L − 1)/(3 L^{1/γ}) for the ±1σ reading,
/// (L − 1)/(3 L^{1/γ}) for the uniform limit of the σ = √m_L reading; `None` for the constant initialisation (0).
pub fn t0_formula(init: Init, gamma: f64, l: f64) -> Option<f64> {
    let base = (l - 1.0) / (3.0 * l.powf(1.0 / gamma));
    match init {
        Init::Constant => None,
        Init::TruncatedSigma => Some(0.9337 * base),
        Init::TruncatedSqrt => Some(base),
    }
}

/// Relative spread of one seed's t = 0 1-variation, ≈ 0.76/√L (SPEC §6).
pub fn t0_rel_spread(l: f64) -> f64 {
    0.76 / l.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_every_table_column_is_a_model() {
        assert_eq!(
            parse_model("B12c").map(|(c, i)| (c.name, i)),
            Some(("B12", Init::Constant))
        );
        assert_eq!(
            parse_model("C23t-sqrt").map(|(c, i)| (c.name, i)),
            Some(("C23", Init::TruncatedSqrt))
        );
        assert!(parse_model("B12").is_none() && parse_model("X11c").is_none() && parse_model("B12x").is_none());
        for t in TABLES {
            for (n, _) in t.columns {
                assert!(parse_model(n).is_some(), "{n}");
            }
        }
        assert_eq!(published_at("B12t-sqrt", 128), Some(0.3361));
        assert_eq!(model_names().len(), 45);
    }

    #[test]
    fn learning_rates_and_scales_follow_table_4_2() {
        let b12 = class_named("B12").unwrap();
        assert!((b12.lr(128.0) - 100.0 * 128f64.powf(0.025)).abs() < 1e-12);
        let c23 = class_named("C23").unwrap();
        assert!((c23.lr(1024.0) - 1024f64.powf(0.49 - 0.51)).abs() < 1e-12);
        // m_L · L^β = L^{−1/γ}/2.
        assert!((c23.m_l(256.0) * 256f64.powf(0.51) - 0.5 / 16.0).abs() < 1e-15);
    }
}
