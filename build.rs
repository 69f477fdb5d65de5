//! Build script: records the git commit of the checkout (if any), the compiler and the target for the manifest.
//! Never fails: without git, or outside a checkout, the commit is "unknown".

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let commit = output("git", &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = match output("git", &["status", "--porcelain", "--untracked-files=no"]) {
        Some(_) => "true",
        None if commit == "unknown" => "unknown",
        None => "false",
    };
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LIEFLOW_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=LIEFLOW_GIT_DIRTY={dirty}");
    println!("cargo:rustc-env=LIEFLOW_RUSTC={version}");
    println!(
        "cargo:rustc-env=LIEFLOW_TARGET={}",
        std::env::var("TARGET").unwrap_or_else(|_| "unknown".into())
    );
    println!(
        "cargo:rustc-env=LIEFLOW_PROFILE={}",
        std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into())
    );
    // Re-run when HEAD moves (a worktree's .git is a file naming the real git dir; fall back quietly).
    if let Some(head) = output("git", &["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={head}");
    }
    if let Some(refs) = output("git", &["rev-parse", "--git-path", "refs/heads"]) {
        println!("cargo:rerun-if-changed={refs}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
