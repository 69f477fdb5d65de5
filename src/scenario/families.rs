//! The registry of field families: scenario `[model] family = "…"` → the family's specification type (a serde
//! struct in the family's own module, implementing [`ModelDef`]). One line per family: adding a family is its
//! file in `field/` plus one line here.

use super::ScenarioFile;
use crate::field::affine::AffineSpec;
use crate::field::family::ModelDef;
use crate::field::mlp::MlpSpec;
use crate::field::node::{Node2Spec, NodeSpec, ResnetSpec};
use crate::Result;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// One family: its scenario name, a one-line description and how its `[model]` table is read.
pub struct Family {
    /// `family = "…"` in `[model]`.
    pub name: &'static str,
    /// What the field is (for error messages and docs).
    pub summary: &'static str,
    parse: fn(&ScenarioFile) -> Result<Arc<dyn ModelDef>>,
}

impl Family {
    /// A family whose `[model]` table (all keys but `family`) deserialises as `T`.
    const fn of<T: DeserializeOwned + ModelDef + 'static>(name: &'static str, summary: &'static str) -> Self {
        Family {
            name,
            summary,
            parse: parse_as::<T>,
        }
    }
}

fn parse_as<T: DeserializeOwned + ModelDef + 'static>(file: &ScenarioFile) -> Result<Arc<dyn ModelDef>> {
    Ok(Arc::new(
        file.table_without::<T>("model", "family")?.expect("[model] is present"),
    ))
}

/// Every field family lieflow can build.
pub static FAMILIES: &[Family] = &[
    Family::of::<AffineSpec>(
        "affine",
        "Σ_j u_j V_j(x) with [[model.fields]] linear/constant/polynomial/random_feature",
    ),
    Family::of::<NodeSpec>("node", "σ(W x + b)"),
    Family::of::<Node2Spec>("node2", "W σ(x) + b"),
    Family::of::<MlpSpec>("mlp", "an MLP m → widths → m with u = its parameters"),
    Family::of::<ResnetSpec>("resnet", "σ(W x), the depth-limit ResNet field"),
];

/// Names of all families (for error messages).
pub fn names() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.name).collect()
}

/// The scenario's `[model]` read by its family, or `None` without a `[model]` table. Errors name the file,
/// line and key (`model.family`, `model.dim`, `model.fields[2].a`, …).
pub fn parse(file: &ScenarioFile) -> Result<Option<Arc<dyn ModelDef>>> {
    let Some(raw) = file.scenario.model.as_ref() else {
        return Ok(None);
    };
    let expected = || {
        let list: Vec<String> = names().iter().map(|n| format!("`{n}`")).collect();
        format!("expected one of {}", list.join(", "))
    };
    let name = match raw.get("family") {
        None => return Err(file.error("model", format!("missing key `family`: {}", expected()))),
        Some(toml::Value::String(s)) => s.as_str(),
        Some(_) => return Err(file.error("model.family", format!("{} (a string)", expected()))),
    };
    let family = FAMILIES
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| file.error("model.family", format!("unknown family `{name}`, {}", expected())))?;
    let def = (family.parse)(file)?;
    if def.dim() == 0 {
        return Err(file.error("model.dim", "expected an integer ≥ 1"));
    }
    Ok(Some(def))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn file(model: &str) -> Result<ScenarioFile> {
        ScenarioFile::parse(Path::new("s.toml"), format!("study = \"simulate\"\n[model]\n{model}\n"))
    }

    /// Every registered family reads a minimal table and builds a field of the declared sizes.
    #[test]
    fn every_family_parses_and_builds() {
        let extra = |name: &str| match name {
            "affine" => "[[model.fields]]\nkind = \"constant\"\nc = [1.0, 0.0]\n",
            "mlp" => "widths = [3]\n",
            _ => "",
        };
        for fam in FAMILIES {
            let f = file(&format!("family = \"{}\"\ndim = 2\n{}", fam.name, extra(fam.name))).unwrap();
            let def = f.model.as_ref().unwrap();
            let field = f.field().unwrap();
            assert_eq!(field.state_dim(), 2, "{}", fam.name);
            assert_eq!(field.control_dim() as f64, def.control_dim().0, "{}", fam.name);
            assert!(def.control_dim().1.starts_with("model."), "{}", fam.name);
        }
    }

    #[test]
    fn unknown_family_lists_the_registry() {
        let e = file("family = \"lstm\"\ndim = 2").unwrap_err().to_string();
        for fam in FAMILIES {
            assert!(e.contains(&format!("`{}`", fam.name)), "{e}");
        }
        assert!(e.contains("line 3") && e.contains("model.family"), "{e}");
        let e = file("dim = 2").unwrap_err().to_string();
        assert!(e.contains("missing key `family`"), "{e}");
    }

    /// Errors inside a family's table keep their line and name the key.
    #[test]
    fn errors_inside_the_table_are_located() {
        let e = file("family = \"node\"\ndim = 2\nactivaton = \"relu\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 5") && e.contains("activaton"), "{e}");
        let err = |f: ScenarioFile| f.field().err().expect("refused").to_string();
        let e = err(file("family = \"mlp\"\ndim = 2\nwidths = [0]").unwrap());
        assert!(e.contains("model.widths") && e.contains("line 5"), "{e}");
        let e = err(file("family = \"affine\"\ndim = 2\n[[model.fields]]\nkind = \"constant\"\nc = [1.0]").unwrap());
        assert!(e.contains("model.fields[0].c") && e.contains("line 7"), "{e}");
    }
}
