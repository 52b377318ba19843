//! README's promises about how to run things, checked against the files
//! they name: exactly two set-up commands, and `.ci/run` running the
//! second one exactly.

use std::path::Path;

fn repo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of the first ```sh block under "## Try it".
fn try_it_commands(readme: &str) -> Vec<String> {
    let section = &readme[readme.find("## Try it").expect("README has \"## Try it\"")..];
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
        repo_file(script).contains("exec cargo test"),
        "{script} ends in cargo test"
    );
}
