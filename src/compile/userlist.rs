//! `userlist` sections.

use super::args::required;
use super::program::{Password, User, Userlist};
use crate::config::ast::SectionDecl;
use crate::config::diag::Diagnostic;

/// Compiles one userlist section; problems go to `report`.
pub fn compile(section: &SectionDecl, name: &str, report: &mut dyn FnMut(Diagnostic)) -> Userlist {
    let mut list = Userlist {
        name: name.to_string(),
        users: Vec::new(),
        groups: Vec::new(),
    };
    for line in &section.lines {
        let result = match line.keyword().text.as_str() {
            "group" => required(line, 1, "group", "a group name").map(|w| {
                list.groups.push(w.text.clone());
            }),
            "user" => user(line).map(|u| list.users.push(u)),
            other => Err(Diagnostic::error(
                line.keyword().span,
                format!(
                    "unknown keyword '{other}' in userlist '{name}' (expects 'user' or 'group')"
                ),
            )),
        };
        if let Err(d) = result {
            report(d);
        }
    }
    list
}

/// `user <name> [password <hash> | insecure-password <pass>] [groups <g,...>]`.
fn user(line: &crate::config::ast::LineDecl) -> Result<User, Diagnostic> {
    let name = required(line, 1, "user", "a user name")?;
    let mut password = None;
    let mut groups = Vec::new();
    let mut i = 2;
    while let Some(word) = line.words.get(i) {
        let value = required(line, i + 1, &word.text, "a value")?;
        match word.text.as_str() {
            "password" => password = Some(Password::Crypt(value.text.clone())),
            "insecure-password" => password = Some(Password::Insecure(value.text.clone())),
            "groups" => groups = value.text.split(',').map(str::to_string).collect(),
            other => {
                return Err(Diagnostic::error(
                    word.span,
                    format!(
                        "'user' does not take '{other}' (expects password, insecure-password or groups)"
                    ),
                ));
            }
        }
        i += 2;
    }
    let password = password.ok_or_else(|| {
        Diagnostic::error(
            name.span,
            format!(
                "user '{}' needs 'password' or 'insecure-password'",
                name.text
            ),
        )
    })?;
    Ok(User {
        name: name.text.clone(),
        password,
        groups,
    })
}
