//! What the schema checks and migrations of every backend share: which migration runs next,
//! and how a store's schema objects are compared with the ones its migrations create.

use crate::Error;

/// One schema object as a backend's catalog lists it: kind, name, table and definition.
pub(crate) type Object<D> = (String, String, String, D);

/// The migration that brings a store at schema `version` one step towards `latest`, or
/// `None` when it is current; [`Error::TooNew`] for a store newer than this build.
pub(crate) fn next_migration(
    version: i64,
    latest: i64,
    migrations: &[&'static str],
) -> Result<Option<&'static str>, Error> {
    if version > latest {
        return Err(Error::TooNew {
            found: version,
            supported: latest,
        });
    }
    Ok(usize::try_from(version)
        .ok()
        .and_then(|v| migrations.get(v))
        .copied())
}

/// Compares the store's schema objects (`actual`) with the ones the migrations create
/// (`expected`): the first missing, changed or added object is named in an
/// [`Error::Schema`]; `changed_hint` adds the backend's reason to a changed one's message.
pub(crate) fn compare<D: PartialEq>(
    expected: &[Object<D>],
    actual: &[Object<D>],
    changed_hint: impl Fn(&Object<D>) -> &'static str,
) -> Result<(), Error> {
    let schema = |what: String| Err(Error::Schema { what });
    for (kind, name, table, def) in expected {
        match actual.iter().find(|a| &a.0 == kind && &a.1 == name) {
            None => {
                let hint = if kind == "trigger" {
                    " (an append-only trigger was dropped: rows may have been changed or \
                     deleted)"
                } else {
                    ""
                };
                return schema(format!("{kind} {name} on {table} is missing{hint}"));
            }
            Some(a) if &a.2 != table || &a.3 != def => {
                let hint = changed_hint(a);
                return schema(format!(
                    "{kind} {name} is not the one the migrations create{hint}"
                ));
            }
            Some(_) => {}
        }
    }
    for (kind, name, table, _) in actual {
        if !expected.iter().any(|e| &e.0 == kind && &e.1 == name) {
            let on = if table.is_empty() {
                String::new()
            } else {
                format!(" on {table}")
            };
            return schema(format!(
                "{kind} {name}{on} was added (the migrations create no such {kind})"
            ));
        }
    }
    Ok(())
}
