//! Identity resolution, as Segment Unify does it, over what one batch of
//! calls touches.
//!
//! An event's identities find the profiles that hold any of them. One
//! profile: the new identities join it. None: a new profile. Several: they
//! merge into the oldest. But a profile may hold only so many values of
//! each kind (a `user_id` limit of 1 keeps two signed-in people apart even
//! when they share a family email): when joining or merging would break a
//! limit, the event's weakest identities (by the rule's priority) are set
//! aside until what is left resolves without breaking one.
//!
//! Pure: [`Resolver`] starts from the owners and states the store read for
//! the batch and returns the [`ProfileChanges`] to write.

use std::collections::{BTreeSet, HashMap};

use kiln_domain::{Identity, IdentityKind, MergeId, ProfileId, ResolutionRules, Timestamp};
use kiln_store::{NewIdentity, NewMerge, NewTrackedEvent, ProfileChanges, ProfileState};
use serde_json::{Map, Value};

/// A root profile as the batch sees it.
#[derive(Debug, Clone)]
struct Node {
    identities: BTreeSet<Identity>,
    traits: Map<String, Value>,
    created_at: Timestamp,
    traits_changed: bool,
}

/// The batch's view of who holds what, and what it changed.
pub struct Resolver<'a> {
    rules: &'a ResolutionRules,
    owners: HashMap<Identity, ProfileId>,
    nodes: HashMap<ProfileId, Node>,
    changes: ProfileChanges,
    now: Timestamp,
}

impl<'a> Resolver<'a> {
    /// Starts from the store's owners of the batch's identities and the
    /// states of those owners.
    pub fn new(
        rules: &'a ResolutionRules,
        owners: Vec<(Identity, ProfileId)>,
        states: Vec<ProfileState>,
        now: Timestamp,
    ) -> Resolver<'a> {
        Resolver {
            rules,
            owners: owners.into_iter().collect(),
            nodes: states
                .into_iter()
                .map(|s| {
                    (
                        s.id,
                        Node {
                            identities: s.identities.into_iter().collect(),
                            traits: s.traits,
                            created_at: s.created_at,
                            traits_changed: false,
                        },
                    )
                })
                .collect(),
            changes: ProfileChanges {
                at: Some(now),
                ..ProfileChanges::default()
            },
            now,
        }
    }

    /// The identities of `raw` that count under the rules: normalised, of
    /// a kind that resolves, not blocked; strongest first, once each.
    pub fn identities(rules: &ResolutionRules, raw: &[(IdentityKind, String)]) -> Vec<Identity> {
        let mut out: Vec<Identity> = raw
            .iter()
            .filter(|(kind, _)| rules.rule(*kind).is_some())
            .filter_map(|(kind, value)| Identity::parse(*kind, value))
            .filter(|i| !rules.blocked(&i.value))
            .collect();
        out.sort_by(|a, b| {
            priority(rules, a.kind)
                .cmp(&priority(rules, b.kind))
                .then_with(|| a.cmp(b))
        });
        out.dedup();
        out
    }

    /// The profile an event with these identities belongs to, after joining
    /// and merging as the rules allow; none when no identity counts.
    pub fn resolve(&mut self, identities: Vec<Identity>, because: &str) -> Option<ProfileId> {
        let mut ids = identities;
        let roots = loop {
            if ids.is_empty() {
                return None;
            }
            let mut roots: Vec<ProfileId> = ids
                .iter()
                .filter_map(|i| self.owners.get(i).cloned())
                .collect();
            roots.sort();
            roots.dedup();
            if self.fits(&roots, &ids) {
                break roots;
            }
            // Set the weakest kind aside and try again.
            let weakest = ids
                .iter()
                .map(|i| priority(self.rules, i.kind))
                .max()
                .unwrap_or(0);
            ids.retain(|i| priority(self.rules, i.kind) != weakest);
        };
        let root = match roots.as_slice() {
            [] => {
                let id = ProfileId::new();
                self.changes.new_profiles.push((id.clone(), self.now));
                self.nodes.insert(
                    id.clone(),
                    Node {
                        identities: BTreeSet::new(),
                        traits: Map::new(),
                        created_at: self.now,
                        traits_changed: false,
                    },
                );
                id
            }
            [one] => one.clone(),
            many => self.merge(many, because),
        };
        for identity in ids {
            if self.owners.contains_key(&identity) {
                continue;
            }
            self.owners.insert(identity.clone(), root.clone());
            if let Some(node) = self.nodes.get_mut(&root) {
                node.identities.insert(identity.clone());
            }
            self.changes.identities.push(NewIdentity {
                identity,
                profile_id: root.clone(),
                origin_id: root.clone(),
            });
        }
        Some(root)
    }

    /// Whether `roots` and `ids` together break no limit a profile has not
    /// already broken (rules made stricter later never split anyone).
    fn fits(&self, roots: &[ProfileId], ids: &[Identity]) -> bool {
        // Per kind of the rules: identities in the union, and the most any
        // one root holds already.
        let kinds = &self.rules.identities;
        let mut union = vec![0usize; kinds.len()];
        let mut own_most = vec![0usize; kinds.len()];
        let slot = |i: &Identity| kinds.iter().position(|r| r.kind == i.kind);
        let nodes: Vec<&Node> = roots.iter().filter_map(|r| self.nodes.get(r)).collect();
        for node in &nodes {
            let mut own = vec![0usize; kinds.len()];
            for i in &node.identities {
                if let Some(k) = slot(i) {
                    union[k] += 1;
                    own[k] += 1;
                }
            }
            for (most, n) in own_most.iter_mut().zip(own) {
                *most = (*most).max(n);
            }
        }
        for i in ids {
            // Counted once: an identity a root holds already is in its count.
            if nodes.iter().any(|n| n.identities.contains(i)) {
                continue;
            }
            if let Some(k) = slot(i) {
                union[k] += 1;
            }
        }
        kinds
            .iter()
            .enumerate()
            .all(|(k, rule)| union[k] <= rule.limit as usize || union[k] <= own_most[k])
    }

    /// Merges `roots` into the oldest of them, which it returns.
    fn merge(&mut self, roots: &[ProfileId], because: &str) -> ProfileId {
        let survivor = roots
            .iter()
            .min_by_key(|r| {
                (
                    self.nodes.get(*r).map(|n| n.created_at),
                    r.as_str().to_string(),
                )
            })
            .cloned()
            .unwrap_or_else(|| roots[0].clone());
        for other in roots.iter().filter(|r| **r != survivor) {
            let Some(node) = self.nodes.remove(other) else {
                continue;
            };
            for identity in &node.identities {
                self.owners.insert(identity.clone(), survivor.clone());
            }
            self.changes.merges.push(NewMerge {
                id: MergeId::new(),
                survivor: survivor.clone(),
                merged: other.clone(),
                because: because.to_string(),
                merged_traits: node.traits.clone(),
                at: self.now,
            });
            if let Some(s) = self.nodes.get_mut(&survivor) {
                s.identities.extend(node.identities);
                // The survivor's own traits win; the merged one fills gaps.
                for (k, v) in node.traits {
                    if !s.traits.contains_key(&k) {
                        s.traits.insert(k, v);
                        s.traits_changed = true;
                    }
                }
            }
        }
        survivor
    }

    /// An identify's traits join the profile, newest value winning.
    pub fn set_traits(&mut self, profile: &ProfileId, traits: &Map<String, Value>) {
        if let Some(node) = self.nodes.get_mut(profile) {
            for (k, v) in traits {
                if node.traits.get(k) != Some(v) {
                    node.traits.insert(k.clone(), v.clone());
                    node.traits_changed = true;
                }
            }
        }
    }

    /// Keeps an event, on the profile it resolved to.
    pub fn keep(&mut self, event: NewTrackedEvent) {
        self.changes.events.push(event);
    }

    /// What to write.
    pub fn finish(mut self) -> ProfileChanges {
        let mut changed: Vec<(ProfileId, Map<String, Value>)> = self
            .nodes
            .into_iter()
            .filter(|(_, n)| n.traits_changed)
            .map(|(id, n)| (id, n.traits))
            .collect();
        changed.sort_by(|a, b| a.0.cmp(&b.0));
        self.changes.traits = changed;
        self.changes
    }
}

fn priority(rules: &ResolutionRules, kind: IdentityKind) -> u32 {
    rules.rule(kind).map_or(u32::MAX, |r| r.priority)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(kind: IdentityKind, v: &str) -> Identity {
        Identity {
            kind,
            value: v.into(),
        }
    }

    fn run(events: &[&[(IdentityKind, &str)]]) -> (Vec<Option<ProfileId>>, ProfileChanges) {
        let rules = ResolutionRules::default();
        let mut r = Resolver::new(&rules, Vec::new(), Vec::new(), Timestamp::now());
        let out = events
            .iter()
            .enumerate()
            .map(|(n, e)| {
                let raw: Vec<(IdentityKind, String)> =
                    e.iter().map(|(k, v)| (*k, v.to_string())).collect();
                let ids = Resolver::identities(&rules, &raw);
                r.resolve(ids, &format!("m{n}"))
            })
            .collect();
        (out, r.finish())
    }

    use IdentityKind::*;

    #[test]
    fn anonymous_browsing_joins_the_person_who_signs_in() {
        let (p, c) = run(&[
            &[(AnonymousId, "a1")],
            &[(UserId, "u1"), (AnonymousId, "a1"), (Email, "Ada@X.com ")],
            &[(Email, "ada@x.com")],
        ]);
        assert_eq!(p[0], p[1]);
        assert_eq!(p[1], p[2]);
        assert_eq!(c.new_profiles.len(), 1);
        assert_eq!(c.identities.len(), 3);
        assert!(
            c.identities
                .iter()
                .any(|i| i.identity == id(Email, "ada@x.com"))
        );
    }

    #[test]
    fn two_profiles_merge_into_the_older_when_one_event_joins_them() {
        let (p, c) = run(&[
            &[(AnonymousId, "a1")],
            &[(Email, "ada@x.com")],
            &[(AnonymousId, "a1"), (Email, "ada@x.com")],
        ]);
        assert_ne!(p[0], p[1]);
        assert_eq!(p[2], p[0], "the older profile survives");
        assert_eq!(c.merges.len(), 1);
        assert_eq!(c.merges[0].because, "m2");
    }

    #[test]
    fn a_shared_email_never_merges_two_users() {
        let (p, c) = run(&[
            &[(UserId, "mum"), (Email, "family@x.com")],
            &[(UserId, "dad"), (Email, "family@x.com")],
        ]);
        assert_ne!(p[0], p[1]);
        assert!(c.merges.is_empty());
        // Dad's profile does not take the family email: mum's holds it.
        assert_eq!(
            c.identities
                .iter()
                .filter(|i| i.identity.kind == Email)
                .count(),
            1
        );
    }

    #[test]
    fn blocked_values_identify_no_one() {
        let (p, c) = run(&[
            &[
                (UserId, "anonymous"),
                (AnonymousId, "a"),
                (Email, "a@x.com"),
            ],
            &[
                (UserId, "anonymous"),
                (AnonymousId, "b"),
                (Email, "b@x.com"),
            ],
            &[(UserId, "c"), (Email, "null")],
            &[(UserId, "d"), (Email, "null")],
            &[(UserId, "null")],
        ]);
        assert_eq!(p.iter().flatten().collect::<BTreeSet<_>>().len(), 4);
        assert_eq!(p[4], None);
        assert!(c.merges.is_empty());
    }

    proptest::proptest! {
        /// Whatever arrives, no profile ends over a limit, and every
        /// identity has exactly one owner.
        #[test]
        fn limits_always_hold(events in proptest::collection::vec(
            proptest::collection::vec((0usize..5, 0u8..6), 1..4), 1..40)) {
            let kinds = [UserId, MemberCard, Email, Phone, AnonymousId];
            let rules = ResolutionRules::default();
            let mut r = Resolver::new(&rules, Vec::new(), Vec::new(), Timestamp::now());
            for (n, e) in events.iter().enumerate() {
                let raw: Vec<(IdentityKind, String)> = e.iter().map(|(k, v)| {
                    let value = match kinds[*k] {
                        Email => format!("p{v}@x.com"),
                        Phone => format!("+4915100000{v}"),
                        _ => format!("v{v}"),
                    };
                    (kinds[*k], value)
                }).collect();
                let ids = Resolver::identities(&rules, &raw);
                r.resolve(ids, &format!("m{n}"));
            }
            for node in r.nodes.values() {
                for rule in &rules.identities {
                    let n = node.identities.iter().filter(|i| i.kind == rule.kind).count();
                    proptest::prop_assert!(n <= rule.limit as usize);
                }
            }
            let owned: usize = r.nodes.values().map(|n| n.identities.len()).sum();
            proptest::prop_assert_eq!(owned, r.owners.len());
        }
    }
}
