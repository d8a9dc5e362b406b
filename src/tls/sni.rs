//! Choosing a certificate from the client's SNI, as HAProxy does: an exact
//! name first, then a `*.domain` wildcard, else the first certificate of
//! the bind (the default certificate).

use std::sync::Arc;

use ahash::AHashMap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// A certificate with the names it may be chosen for.
#[derive(Debug, Clone)]
pub struct SniCert {
    pub key: Arc<CertifiedKey>,
    /// Exact names and `*.domain` wildcards, lower-case.
    pub names: Vec<String>,
    /// Names it must not be chosen for; `*` excludes every name.
    pub excluded: Vec<String>,
}

/// Picks a certificate for each handshake. Built once per bind.
#[derive(Debug)]
pub struct SniResolver {
    certs: Vec<Arc<CertifiedKey>>,
    /// Exact name → indexes into `certs`, in declaration order.
    exact: AHashMap<String, Vec<usize>>,
    /// Domain after `*.` → indexes into `certs`, in declaration order.
    wildcard: AHashMap<String, Vec<usize>>,
}

impl SniResolver {
    /// Builds the lookup tables; `certs[0]` is the default certificate.
    /// Returns `None` when there is no certificate at all.
    pub fn new(certs: Vec<SniCert>) -> Option<SniResolver> {
        if certs.is_empty() {
            return None;
        }
        let mut exact: AHashMap<String, Vec<usize>> = AHashMap::new();
        let mut wildcard: AHashMap<String, Vec<usize>> = AHashMap::new();
        for (index, cert) in certs.iter().enumerate() {
            if cert.excluded.iter().any(|e| e == "*") {
                continue;
            }
            for name in &cert.names {
                if cert.excluded.contains(name) {
                    continue;
                }
                let slot = match name.strip_prefix("*.") {
                    Some(domain) => wildcard.entry(domain.to_string()).or_default(),
                    None => exact.entry(name.clone()).or_default(),
                };
                if !slot.contains(&index) {
                    slot.push(index);
                }
            }
        }
        // A negative filter also removes the certificate from a wildcard
        // match on that exact name: keep them to check at lookup time.
        let excluded: Vec<Vec<String>> = certs.iter().map(|c| c.excluded.clone()).collect();
        let mut resolver = SniResolver {
            certs: certs.into_iter().map(|c| c.key).collect(),
            exact,
            wildcard,
        };
        resolver.drop_excluded_wildcards(&excluded);
        Some(resolver)
    }

    /// The certificate for `sni` (lower-case or not), and among several with
    /// the same name the first whose key can sign with one of `schemes`.
    pub fn choose(
        &self,
        sni: Option<&str>,
        schemes: &[rustls::SignatureScheme],
    ) -> Arc<CertifiedKey> {
        let candidates = sni.and_then(|name| self.candidates(name));
        if let Some(indexes) = candidates {
            let usable = indexes
                .iter()
                .find(|&&i| self.certs[i].key.choose_scheme(schemes).is_some());
            if let Some(&i) = usable.or(indexes.first()) {
                return Arc::clone(&self.certs[i]);
            }
        }
        // `new` refuses an empty list, so the default certificate exists.
        Arc::clone(&self.certs[0])
    }

    /// Index of the certificate chosen for `sni` (for tests and `show ssl`).
    pub fn choose_index(&self, sni: Option<&str>) -> usize {
        sni.and_then(|name| self.candidates(name))
            .and_then(|v| v.first().copied())
            .unwrap_or(0)
    }

    fn candidates(&self, name: &str) -> Option<&Vec<usize>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(found) = self.exact.get(&name) {
            return Some(found);
        }
        let (_, domain) = name.split_once('.')?;
        self.wildcard.get(domain)
    }

    /// Applies negative filters to wildcard matches. `!*.domain` takes the
    /// certificate out of that wildcard. `!a.domain` cannot be removed from
    /// the `*.domain` entry (other names use it), so `a.domain` gets an exact
    /// entry with the other holders of `*.domain`, or the default
    /// certificate when there is none.
    fn drop_excluded_wildcards(&mut self, excluded: &[Vec<String>]) {
        for (index, names) in excluded.iter().enumerate() {
            for name in names {
                if let Some(domain) = name.strip_prefix("*.") {
                    if let Some(holders) = self.wildcard.get_mut(domain) {
                        holders.retain(|&i| i != index);
                    }
                    continue;
                }
                if self.exact.contains_key(name) {
                    continue;
                }
                let Some((_, domain)) = name.split_once('.') else {
                    continue;
                };
                let Some(holders) = self.wildcard.get(domain) else {
                    continue;
                };
                if !holders.contains(&index) {
                    continue;
                }
                let others: Vec<usize> = holders.iter().copied().filter(|&i| i != index).collect();
                let entry = if others.is_empty() { vec![0] } else { others };
                self.exact.insert(name.clone(), entry);
            }
        }
        self.wildcard.retain(|_, holders| !holders.is_empty());
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.choose(client_hello.server_name(), client_hello.signature_schemes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resolver over `n` copies of one key, with the given names.
    fn resolver(certs: &[(&[&str], &[&str])]) -> SniResolver {
        let provider = crate::tls::provider();
        let key = rcgen::KeyPair::generate().expect("key");
        let der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let signing = provider.key_provider.load_private_key(der).expect("load");
        let key = Arc::new(CertifiedKey::new(Vec::new(), signing));
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        let list = certs
            .iter()
            .map(|(names, excluded)| SniCert {
                key: Arc::clone(&key),
                names: owned(names),
                excluded: owned(excluded),
            })
            .collect();
        SniResolver::new(list).expect("resolver")
    }

    #[test]
    fn exact_before_wildcard_before_default() {
        let r = resolver(&[
            (&["default.example"], &[]),
            (&["*.example"], &[]),
            (&["www.example"], &[]),
        ]);
        assert_eq!(r.choose_index(Some("www.example")), 2);
        assert_eq!(r.choose_index(Some("WWW.Example")), 2);
        assert_eq!(r.choose_index(Some("api.example")), 1);
        assert_eq!(r.choose_index(Some("default.example")), 0);
        assert_eq!(r.choose_index(Some("a.b.example")), 0);
        assert_eq!(r.choose_index(Some("example")), 0);
        assert_eq!(r.choose_index(None), 0);
    }

    #[test]
    fn first_declared_wins_a_tie() {
        let r = resolver(&[
            (&["a.example"], &[]),
            (&["b.example"], &[]),
            (&["b.example"], &[]),
        ]);
        assert_eq!(r.choose_index(Some("b.example")), 1);
    }

    #[test]
    fn negative_filters() {
        let r = resolver(&[
            (&["fallback.example"], &["*"]),
            (&["*.example"], &["secure.example"]),
            (&["*.other"], &["*.other"]),
            (&["*.example"], &[]),
        ]);
        // '!*': never chosen by name.
        assert_eq!(r.choose_index(Some("fallback.example")), 1);
        // Excluded from cert 1's wildcard: the next holder answers.
        assert_eq!(r.choose_index(Some("secure.example")), 3);
        assert_eq!(r.choose_index(Some("www.example")), 1);
        // A wildcard excluded from itself matches nothing: default.
        assert_eq!(r.choose_index(Some("x.other")), 0);
    }
}
