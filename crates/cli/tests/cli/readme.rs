//! The README cannot drift from the binary: every `custody …` command shown in its shell
//! blocks must name real subcommands and flags. Each is run with `--help` appended, which
//! makes the argument parser check the command line and then stop without doing anything.

use crate::support::*;

/// Splits a shell command line into words: quotes group, `#` outside quotes ends the line.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, '#') => break,
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Every `custody` command in the README's ```sh blocks, continuation lines joined.
fn commands(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let trimmed = line.trim_end();
        if !pending.is_empty() || trimmed.starts_with("custody ") {
            match trimmed.strip_suffix('\\') {
                Some(head) => pending.push_str(head),
                None => {
                    pending.push_str(trimmed);
                    out.push(std::mem::take(&mut pending));
                }
            }
        }
    }
    out
}

#[test]
fn every_command_in_the_readme_parses() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let cmds = commands(&readme);
    assert!(
        cmds.len() > 30,
        "found only {} commands in the README",
        cmds.len()
    );
    let env = Env::new();
    for cmd in &cmds {
        let mut args = words(cmd);
        assert_eq!(args.remove(0), "custody");
        args.push("--help".into());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env.run_bare(&refs);
        assert_eq!(
            out.code, 0,
            "README command does not parse: {cmd}\n{}",
            out.stderr
        );
    }
}

#[test]
fn the_splitter_understands_quotes_and_comments() {
    assert_eq!(
        words(r#"custody a --x "two words" 'y' # note"#),
        ["custody", "a", "--x", "two words", "y"]
    );
    assert_eq!(
        words(r#"custody b --v "$(cat f)""#),
        ["custody", "b", "--v", "$(cat f)"]
    );
    assert_eq!(
        commands("```sh\ncustody a \\\n  --b c\nls\n```\ncustody z\n"),
        ["custody a   --b c"]
    );
}
