//! Unit tests of the `lie` study's scenario parsing.
use super::*;
use std::path::Path;

fn parse(text: &str) -> Result<ScenarioFile> {
    ScenarioFile::parse(Path::new("t.toml"), text.to_string())
}

#[test]
fn rationals_parse_exactly() {
    assert_eq!(parse_rational("3/2").unwrap().to_string(), "3/2");
    assert_eq!(parse_rational(" -6 / 4 ").unwrap().to_string(), "-3/2");
    assert_eq!(parse_rational("7").unwrap().to_string(), "7");
    assert!(parse_rational("1/0").is_err());
    assert!(parse_rational("0.5").is_err());
}

#[test]
fn bad_rational_names_field_and_line() {
    let text = "study = \"lie\"\n[lie]\npoints = [[0.0], [1.0]]\n[[lie.fields]]\nterms = [{ component = 0, \
                exponents = [0], coef = \"3/x\" }]\n";
    let e = prepare(&parse(text).unwrap()).err().unwrap().to_string();
    assert!(
        e.contains("t.toml") && e.contains("coef") && e.contains("3/x") && e.contains("line 5"),
        "{e}"
    );
}

#[test]
fn explicit_fields_and_points_prepare() {
    let text = "study = \"lie\"\n[lie]\npoints = [[0.0], [1.0]]\n[[lie.fields]]\nterms = [{ component = 0, \
                exponents = [0], coef = 1 }]\n[[lie.fields]]\nterms = [{ component = 0, exponents = [2], \
                coef = \"1/3\" }]\n";
    let f = parse(text).unwrap();
    let p = prepare(&f).unwrap();
    assert_eq!(p.m, 1);
    match p.fields {
        Fields::Poly(fs) => assert_eq!(fs.len(), 2),
        _ => panic!(),
    }
}

#[test]
fn coincident_points_name_the_scenario_field() {
    let text = "study = \"lie\"\n[lie]\nfields = \"cuchiero\"\ndim = 2\npoints = [[0.5, 1.0], [0.5, 1.0]]\n";
    let e = prepare(&parse(text).unwrap()).unwrap_err().to_string();
    assert!(
        e.contains("t.toml") && e.contains("lie.points") && e.contains("coincide"),
        "{e}"
    );
    assert!(!e.contains("<lie>"), "{e}");
}

#[test]
fn random_features_family_parses() {
    let text = "study = \"lie\"\n[lie]\ndim = 2\nrandom_points = { n = 3, seed = 1 }\n[lie.fields]\nkind = \
                \"random_features\"\ncount = 7\nseed = 4\n";
    let p = prepare(&parse(text).unwrap()).unwrap();
    match p.fields {
        Fields::Features(fs) => assert_eq!(fs.len(), 7),
        _ => panic!(),
    }
    assert_eq!(p.points.len(), 3);
}
