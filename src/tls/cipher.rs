//! OpenSSL cipher names (`ciphers`, `ciphersuites`) mapped to rustls suites.
//!
//! rustls implements only AEAD suites with forward secrecy. A list may name
//! OpenSSL suites rustls lacks (DHE, CBC, CCM, ...): those are skipped with a
//! warning so that common hardened lists keep working. A word that is no
//! OpenSSL cipher name or alias at all is an error.

use rustls::CipherSuite;
use rustls::SupportedCipherSuite;

use super::error::TlsError;

/// The suites a list selects, in its order, and what it named that rustls
/// cannot offer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub suites: Vec<SupportedCipherSuite>,
    pub warnings: Vec<String>,
}

/// How a TLS 1.2 suite is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Rsa,
    Ecdsa,
}

/// Its bulk cipher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Enc {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20,
}

/// OpenSSL's name of each TLS 1.2 suite rustls implements.
const TLS12: &[(&str, CipherSuite, Auth, Enc)] = &[
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        Auth::Ecdsa,
        Enc::Aes128Gcm,
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        Auth::Ecdsa,
        Enc::Aes256Gcm,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        Auth::Ecdsa,
        Enc::Chacha20,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        Auth::Rsa,
        Enc::Aes128Gcm,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        Auth::Rsa,
        Enc::Aes256Gcm,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        Auth::Rsa,
        Enc::Chacha20,
    ),
];

/// The TLS 1.3 suites rustls implements, by their standard names.
const TLS13: &[(&str, CipherSuite)] = &[
    (
        "TLS_AES_128_GCM_SHA256",
        CipherSuite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "TLS_AES_256_GCM_SHA384",
        CipherSuite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
];

/// TLS 1.3 suites OpenSSL knows and rustls does not implement.
const TLS13_UNSUPPORTED: &[&str] = &["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"];

/// The parts OpenSSL's TLS 1.2 suite names are made of. A name built only
/// from these is taken for a real suite rustls lacks; anything else is a typo.
const NAME_PARTS: &[&str] = &[
    "ECDHE",
    "DHE",
    "EDH",
    "ECDH",
    "DH",
    "ADH",
    "AECDH",
    "RSA",
    "ECDSA",
    "DSS",
    "PSK",
    "SRP",
    "AES128",
    "AES256",
    "AES",
    "GCM",
    "CCM",
    "CCM8",
    "SHA",
    "SHA256",
    "SHA384",
    "CHACHA20",
    "POLY1305",
    "CAMELLIA128",
    "CAMELLIA256",
    "CAMELLIA",
    "ARIA128",
    "ARIA256",
    "DES",
    "CBC3",
    "CBC",
    "RC4",
    "MD5",
    "NULL",
    "SEED",
    "IDEA",
    "EXP",
    "RC2",
    "40",
    "56",
    "EXP1024",
    "KRB5",
    "ANON",
];

/// OpenSSL aliases that select no suite rustls implements.
const EMPTY_ALIASES: &[&str] = &[
    "kRSA",
    "kDHE",
    "kEDH",
    "DHE",
    "EDH",
    "DH",
    "kDH",
    "ADH",
    "AECDH",
    "aNULL",
    "eNULL",
    "NULL",
    "EXP",
    "EXPORT",
    "LOW",
    "MEDIUM",
    "DES",
    "3DES",
    "RC4",
    "MD5",
    "SHA1",
    "SHA",
    "PSK",
    "kPSK",
    "aPSK",
    "kECDHEPSK",
    "kDHEPSK",
    "kRSAPSK",
    "SRP",
    "kSRP",
    "aSRP",
    "DSS",
    "aDSS",
    "CAMELLIA",
    "CAMELLIA128",
    "CAMELLIA256",
    "ARIA",
    "ARIA128",
    "ARIA256",
    "SEED",
    "IDEA",
    "RC2",
    "CCM",
    "CCM8",
    "AESCCM",
    "AESCCM8",
    "SSLv3",
    "TLSv1",
    "TLSv1.0",
    "kGOST",
    "aGOST",
    "GOST94",
    "GOST89MAC",
    "COMPLEMENTOFDEFAULT",
    "COMPLEMENTOFALL",
    "aDH",
    "kECDH",
    "aECDH",
    "CBC",
    "SUITEB128",
    "SUITEB128ONLY",
    "SUITEB192",
];

/// Maps a TLS 1.2 cipher string (`ciphers`, `ssl-default-bind-ciphers`).
///
/// Words are separated by `:`, `,` or spaces. `!X` removes X for good, `-X`
/// removes it, `+X` moves it to the end, `A+B` selects what both select,
/// `@STRENGTH`/`@SECLEVEL=n` are accepted and ignored.
pub fn tls12(list: &str, available: &[SupportedCipherSuite]) -> Result<Selection, TlsError> {
    let mut chosen: Vec<CipherSuite> = Vec::new();
    let mut banned: Vec<CipherSuite> = Vec::new();
    let mut warnings = Vec::new();
    for word in list.split([':', ',', ' ']).filter(|w| !w.is_empty()) {
        if word.starts_with('@') {
            continue;
        }
        let (op, body) = match word.as_bytes()[0] {
            b'!' | b'-' | b'+' => (word.as_bytes()[0], &word[1..]),
            _ => (b' ', word),
        };
        let selected = select12(body)?;
        if selected.is_empty() && op == b' ' && is_suite_name(body) {
            warnings.push(format!(
                "cipher '{body}' is not implemented by rustls, skipped"
            ));
        }
        match op {
            b'!' => {
                chosen.retain(|s| !selected.contains(s));
                banned.extend(selected);
            }
            b'-' => chosen.retain(|s| !selected.contains(s)),
            b'+' => {
                let (moved, kept): (Vec<_>, Vec<_>) =
                    chosen.iter().partition(|s| selected.contains(s));
                chosen = kept.into_iter().chain(moved).collect();
            }
            _ => {
                for suite in selected {
                    if !chosen.contains(&suite) && !banned.contains(&suite) {
                        chosen.push(suite);
                    }
                }
            }
        }
    }
    Ok(Selection {
        suites: pick(&chosen, available),
        warnings,
    })
}

/// Maps a TLS 1.3 suite list (`ciphersuites`): names separated by `:`.
pub fn tls13(list: &str, available: &[SupportedCipherSuite]) -> Result<Selection, TlsError> {
    let mut chosen = Vec::new();
    let mut warnings = Vec::new();
    for name in list.split(':').filter(|w| !w.is_empty()) {
        match TLS13.iter().find(|(n, _)| *n == name) {
            Some((_, suite)) => {
                if !chosen.contains(suite) {
                    chosen.push(*suite)
                }
            }
            None if TLS13_UNSUPPORTED.contains(&name) => warnings.push(format!(
                "cipher suite '{name}' is not implemented by rustls, skipped"
            )),
            None => {
                return Err(TlsError::UnknownCipher {
                    keyword: "ciphersuites",
                    name: name.to_string(),
                });
            }
        }
    }
    Ok(Selection {
        suites: pick(&chosen, available),
        warnings,
    })
}

/// OpenSSL's name of a negotiated suite, for `ssl_fc_cipher`.
pub fn openssl_name(suite: CipherSuite) -> Option<&'static str> {
    TLS12
        .iter()
        .find(|(_, s, _, _)| *s == suite)
        .map(|(n, ..)| *n)
        .or_else(|| TLS13.iter().find(|(_, s)| *s == suite).map(|(n, _)| *n))
}

/// What one word (without its `!`/`-`/`+`) selects, in OpenSSL's order.
fn select12(body: &str) -> Result<Vec<CipherSuite>, TlsError> {
    if let Some((_, suite, ..)) = TLS12.iter().find(|(n, ..)| *n == body) {
        return Ok(vec![*suite]);
    }
    if is_suite_name(body) {
        return Ok(Vec::new());
    }
    let mut selected: Option<Vec<CipherSuite>> = None;
    for alias in body.split('+') {
        let matching = alias_matches(alias).ok_or_else(|| TlsError::UnknownCipher {
            keyword: "ciphers",
            name: body.to_string(),
        })?;
        let these: Vec<CipherSuite> = TLS12
            .iter()
            .filter(|(_, _, auth, enc)| matching(*auth, *enc))
            .map(|(_, s, ..)| *s)
            .collect();
        selected = Some(match selected {
            None => these,
            Some(before) => before.into_iter().filter(|s| these.contains(s)).collect(),
        });
    }
    Ok(selected.unwrap_or_default())
}

type Matcher = fn(Auth, Enc) -> bool;

/// The suites an OpenSSL alias selects, as a predicate; `None` = unknown.
fn alias_matches(alias: &str) -> Option<Matcher> {
    let matcher: Matcher = match alias {
        "ALL" | "DEFAULT" | "HIGH" | "ECDHE" | "EECDH" | "kECDHE" | "kEECDH" | "ECDH" | "AEAD"
        | "TLSv1.2" | "FIPS" => |_, _| true,
        "aRSA" | "RSA" => |auth, _| auth == Auth::Rsa,
        "aECDSA" | "ECDSA" => |auth, _| auth == Auth::Ecdsa,
        "AESGCM" | "AES" => |_, enc| enc != Enc::Chacha20,
        "AES128" => |_, enc| enc == Enc::Aes128Gcm,
        "AES256" => |_, enc| enc == Enc::Aes256Gcm,
        "CHACHA20" => |_, enc| enc == Enc::Chacha20,
        "SHA256" => |_, enc| enc != Enc::Aes256Gcm,
        "SHA384" => |_, enc| enc == Enc::Aes256Gcm,
        _ if EMPTY_ALIASES.contains(&alias) => |_, _| false,
        _ => return None,
    };
    Some(matcher)
}

/// Whether `name` reads as an OpenSSL suite name (parts joined by `-`).
fn is_suite_name(name: &str) -> bool {
    name.contains('-') && name.split('-').all(|part| NAME_PARTS.contains(&part))
}

fn pick(order: &[CipherSuite], available: &[SupportedCipherSuite]) -> Vec<SupportedCipherSuite> {
    order
        .iter()
        .filter_map(|want| available.iter().find(|s| s.suite() == *want).copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<SupportedCipherSuite> {
        rustls::crypto::ring::default_provider().cipher_suites
    }

    fn names12(list: &str) -> Vec<CipherSuite> {
        match tls12(list, &all()) {
            Ok(sel) => sel.suites.iter().map(|s| s.suite()).collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn exact_names_in_their_order() {
        assert_eq!(
            names12("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"),
            vec![
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            ]
        );
    }

    #[test]
    fn mozilla_intermediate_list_keeps_what_rustls_has() {
        let list = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
                    ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:\
                    ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:\
                    DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";
        let sel = match tls12(list, &all()) {
            Ok(sel) => sel,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(sel.suites.len(), 6);
        assert_eq!(sel.warnings.len(), 2);
        assert!(sel.warnings[0].contains("DHE-RSA-AES128-GCM-SHA256"));
    }

    #[test]
    fn aliases_and_exclusions() {
        assert_eq!(
            names12("ECDH+AESGCM:!aRSA"),
            vec![
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            ]
        );
        assert_eq!(names12("HIGH:!aNULL:!MD5:@STRENGTH").len(), 6);
        assert_eq!(
            names12("CHACHA20:AES128:+CHACHA20")[0],
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        );
        assert!(names12("DHE-RSA-AES128-SHA").is_empty());
    }

    #[test]
    fn unknown_names_are_errors() {
        for bad in ["ECDHE-RSA-AES128-GCM-SHA265", "FAST", "HIGH:bogus"] {
            assert!(
                matches!(
                    tls12(bad, &all()),
                    Err(TlsError::UnknownCipher {
                        keyword: "ciphers",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            tls13("TLS_AES_128_GCM_SHA256:TLS_AES_512", &all()),
            Err(TlsError::UnknownCipher {
                keyword: "ciphersuites",
                name: "TLS_AES_512".to_string()
            })
        );
    }

    #[test]
    fn tls13_names() {
        let sel = match tls13(
            "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256",
            &all(),
        ) {
            Ok(sel) => sel,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            sel.suites.iter().map(|s| s.suite()).collect::<Vec<_>>(),
            vec![CipherSuite::TLS13_CHACHA20_POLY1305_SHA256]
        );
        assert_eq!(sel.warnings.len(), 1);
        assert_eq!(
            openssl_name(CipherSuite::TLS13_AES_256_GCM_SHA384),
            Some("TLS_AES_256_GCM_SHA384")
        );
    }
}
