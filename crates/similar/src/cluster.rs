//! Which member of a near-duplicate cluster was provably there first.
//!
//! The rule, in full:
//!
//! 1. Every member may carry any number of candidate times, each with a [`TimeBasis`].
//!    Members with no times take no part; if no member has a time, there is no answer.
//! 2. The strongest basis present anywhere in the cluster is found
//!    (`Attested` > `DeviceClock` > `Reported`). Only times with exactly that basis are
//!    considered: a weaker time is never allowed to win, however early it is, because
//!    what cannot be proven to that standard is not "provable" at the cluster's level.
//! 3. Among those, the earliest time wins.
//! 4. Ties (equal times) go to the smallest member id, so the answer is deterministic and
//!    does not depend on the order members are given in.
//!
//! The time type is the caller's (anything totally ordered, such as the vault's
//! timestamps), so this rule stays free of clock and time-zone questions: those belong
//! to whoever turns evidence metadata into candidate times.

/// How a time is known, from weakest to strongest (the derived order ranks strength).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeBasis {
    /// Stated by a person or a platform: a submitter's note, a caption, a post date
    /// copied from a web page.
    Reported,
    /// Written by the capturing device's own clock (EXIF DateTimeOriginal and the like):
    /// a measurement, but the clock may be wrong or set on purpose.
    DeviceClock,
    /// Proven by a third party or by cryptography: an RFC 3161 timestamp token, a signed
    /// C2PA claim time, the vault's own signed ledger entry. Shows the bytes existed by
    /// then.
    Attested,
}

/// One candidate time of one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeClaim<T> {
    pub at: T,
    pub basis: TimeBasis,
}

/// The chosen appearance: which member, when, and on what basis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appearance<T> {
    pub member: u64,
    pub at: T,
    pub basis: TimeBasis,
}

/// The earliest provable appearance of a cluster, by the rule in the module docs.
/// `members` gives each member's id with its candidate times.
pub fn earliest_provable_appearance<'a, T, M>(members: M) -> Option<Appearance<T>>
where
    T: Ord + Clone + 'a,
    M: IntoIterator<Item = (u64, &'a [TimeClaim<T>])>,
{
    let mut best: Option<Appearance<T>> = None;
    for (member, claims) in members {
        for c in claims {
            let better = match &best {
                None => true,
                Some(b) => {
                    (c.basis, std::cmp::Reverse(&c.at), std::cmp::Reverse(member))
                        > (
                            b.basis,
                            std::cmp::Reverse(&b.at),
                            std::cmp::Reverse(b.member),
                        )
                }
            };
            if better {
                best = Some(Appearance {
                    member,
                    at: c.at.clone(),
                    basis: c.basis,
                });
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::TimeBasis::*;
    use super::*;

    fn c(at: i64, basis: TimeBasis) -> TimeClaim<i64> {
        TimeClaim { at, basis }
    }

    fn pick(members: &[(u64, Vec<TimeClaim<i64>>)]) -> Option<Appearance<i64>> {
        earliest_provable_appearance(members.iter().map(|(m, v)| (*m, v.as_slice())))
    }

    #[test]
    fn strongest_basis_wins_over_earlier_weaker_times() {
        let m = vec![
            (1, vec![c(100, Reported)]),
            (2, vec![c(500, DeviceClock)]),
            (3, vec![c(900, Attested), c(50, Reported)]),
            (4, vec![c(700, Attested)]),
        ];
        assert_eq!(
            pick(&m),
            Some(Appearance {
                member: 4,
                at: 700,
                basis: Attested
            })
        );
    }

    #[test]
    fn earliest_within_the_basis_and_ties_to_smallest_id() {
        let m = vec![
            (9, vec![c(300, DeviceClock)]),
            (4, vec![c(200, DeviceClock), c(250, DeviceClock)]),
            (2, vec![c(200, DeviceClock)]),
            (1, vec![c(100, Reported)]),
        ];
        let want = Some(Appearance {
            member: 2,
            at: 200,
            basis: DeviceClock,
        });
        assert_eq!(pick(&m), want);
        let mut rev = m.clone();
        rev.reverse();
        assert_eq!(pick(&rev), want, "order of members must not matter");
    }

    #[test]
    fn members_without_times_are_ignored() {
        assert_eq!(pick(&[]), None);
        assert_eq!(pick(&[(1, vec![]), (2, vec![])]), None);
        let m = vec![(1, vec![]), (2, vec![c(10, Reported)])];
        assert_eq!(
            pick(&m),
            Some(Appearance {
                member: 2,
                at: 10,
                basis: Reported
            })
        );
    }
}
