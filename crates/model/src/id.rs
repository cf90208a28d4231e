//! Identifiers of things a vault holds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An evidence item: one collection of some bytes. Two collections of the same bytes are
/// two items that share a blob. Written `ITM-000042`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ItemId(u64);

impl ItemId {
    pub const PREFIX: &'static str = "ITM-";

    pub fn new(n: u64) -> Self {
        Self(n)
    }
    pub fn number(self) -> u64 {
        self.0
    }
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an item id: {0:?} (item ids look like ITM-000042)")]
pub struct ItemIdParseError(pub String);

impl FromStr for ItemId {
    type Err = ItemIdParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s
            .strip_prefix(Self::PREFIX)
            .or_else(|| s.strip_prefix("itm-"))
            .ok_or_else(|| ItemIdParseError(s.to_owned()))?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ItemIdParseError(s.to_owned()));
        }
        digits
            .parse()
            .map(Self)
            .map_err(|_| ItemIdParseError(s.to_owned()))
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:06}", Self::PREFIX, self.0)
    }
}

impl Serialize for ItemId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ItemId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_pads() {
        let id = ItemId::new(42);
        assert_eq!(id.to_string(), "ITM-000042");
        assert_eq!("ITM-000042".parse::<ItemId>().unwrap(), id);
        assert_eq!("ITM-1234567".parse::<ItemId>().unwrap().number(), 1234567);
        assert!("ITM-".parse::<ItemId>().is_err());
        assert!("ITM-12a".parse::<ItemId>().is_err());
        assert!("42".parse::<ItemId>().is_err());
    }
}
