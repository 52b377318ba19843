//! README's promises about how to run things, checked against the files
//! they name: exactly two set-up commands, and `.ci/run` running the
//! second one exactly; the two-line install for a server, and `.ci/run`
//! proving it through `.ci/package`.

use std::path::Path;

fn repo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of the first ```sh block under "## Try it".
fn try_it_commands(readme: &str) -> Vec<String> {
    first_sh_block(readme, "## Try it")
}

/// The lines of the first ```sh block under `heading`.
fn first_sh_block(readme: &str, heading: &str) -> Vec<String> {
    let section = &readme[readme
        .find(heading)
        .unwrap_or_else(|| panic!("README has {heading:?}"))..];
    let block = &section[section.find("```sh\n").expect("a ```sh block") + 6..];
    let block = &block[..block.find("```").expect("the block ends")];
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn readme_has_two_commands_and_ci_runs_the_test_command_exactly() {
    let commands = try_it_commands(&repo_file("README.md"));
    assert_eq!(commands.len(), 2, "two set-up commands: {commands:?}");
    assert!(
        commands[0].contains(" run"),
        "the first runs the daemon: {commands:?}"
    );
    let test = &commands[1];
    let ci = repo_file(".ci/run");
    assert!(
        ci.lines()
            .any(|l| l.trim() == *test || l.trim().starts_with(&format!("{test} "))),
        "`.ci/run` must call {test:?} exactly"
    );
    let script = test.split_whitespace().next().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    assert!(path.is_file(), "{script} exists");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "{script} is executable");
    }
    assert!(
        repo_file(script)
            .lines()
            .any(|l| matches!(l.trim(), "cargo test \"$@\"" | "exec cargo test \"$@\"")),
        "{script} runs cargo test with its arguments"
    );
}

#[test]
fn readme_installs_a_server_in_two_lines_that_ci_proves() {
    let commands = first_sh_block(&repo_file("README.md"), "## Installing as a service");
    assert_eq!(commands.len(), 2, "build, then install: {commands:?}");
    assert!(
        commands[0].ends_with("cargo xtask deb"),
        "the first builds the package: {commands:?}"
    );
    assert!(
        commands[1].starts_with("dpkg -i target/debian/hanbao_"),
        "the second installs it: {commands:?}"
    );
    let package = repo_file(".ci/package");
    assert!(
        package.contains("cargo xtask deb") && package.contains("dpkg -i \"$deb\""),
        "`.ci/package` builds and installs the way README says"
    );
    let ci = repo_file(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim().starts_with(".ci/package")),
        "`.ci/run` runs .ci/package"
    );
    let alias = repo_file(".cargo/config.toml");
    assert!(alias.contains("xtask = "), "`cargo xtask` is an alias");
}
