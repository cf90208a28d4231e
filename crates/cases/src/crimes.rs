//! Candidate crimes and their legal elements.
//!
//! Rome Statute crimes carry the elements of the ICC Elements of Crimes, paraphrased
//! (this is a checklist for gathering evidence, not legal text: read the Elements
//! themselves before relying on a formulation). War crimes under Art. 8(2)(a) share the
//! common elements of grave breaches; crimes against humanity under Art. 7 share the
//! contextual elements. A national article (e.g. `UA-CC-438`, Art. 438 of the Criminal
//! Code of Ukraine) gets a generic set of elements to be refined with national counsel.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::check_label;

/// A candidate crime, by code: `RS-8(2)(a)(i)` for the Rome Statute, or a national
/// article label such as `UA-CC-438`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct CrimeRef(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrimeError {
    #[error(
        "{0:?} is not a Rome Statute crime this catalogue knows; known codes: {known}",
        known = ROME_CODES.join(", ")
    )]
    UnknownRomeStatute(String),
    #[error(
        "{0:?} is not a crime code: write RS-8(2)(a)(i) for the Rome Statute or a national article label such as UA-CC-438, optionally followed by a space and a description"
    )]
    Malformed(String),
}

const ROME_CODES: &[&str] = &[
    "RS-8(2)(a)(i)",
    "RS-8(2)(a)(ii)-1",
    "RS-8(2)(a)(ii)-2",
    "RS-8(2)(a)(iii)",
    "RS-8(2)(b)(i)",
    "RS-8(2)(b)(xxi)",
    "RS-7(1)(a)",
    "RS-7(1)(f)",
    "RS-7(1)(i)",
];

impl CrimeRef {
    /// Parses a code, optionally followed by a description ("RS-8(2)(a)(i) wilful
    /// killing"); returns the code and the description.
    pub fn parse_labelled(s: &str) -> Result<(Self, Option<String>), CrimeError> {
        let s = s.trim();
        let (code, rest) = match s.split_once(char::is_whitespace) {
            Some((c, r)) => (c, Some(r.trim().to_owned()).filter(|r| !r.is_empty())),
            None => (s, None),
        };
        if let Some(tail) = code.strip_prefix("RS-") {
            let normal = format!("RS-{tail}");
            if ROME_CODES.contains(&normal.as_str()) {
                return Ok((Self(normal), rest));
            }
            return Err(CrimeError::UnknownRomeStatute(code.to_owned()));
        }
        if check_label("crime", code).is_err() || !code.contains('-') {
            return Err(CrimeError::Malformed(s.to_owned()));
        }
        Ok((Self(code.to_owned()), rest))
    }

    pub fn parse(s: &str) -> Result<Self, CrimeError> {
        Self::parse_labelled(s).map(|(c, _)| c)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_rome_statute(&self) -> bool {
        self.0.starts_with("RS-")
    }
}

impl std::str::FromStr for CrimeRef {
    type Err = CrimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for CrimeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CrimeRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CrimeRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CrimeRef::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// What an element is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementKind {
    Conduct,
    Consequence,
    Circumstance,
    Mental,
    Contextual,
}

/// One legal element of a crime.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ElementDef {
    pub id: &'static str,
    pub kind: ElementKind,
    pub text: &'static str,
}

/// A crime with its elements.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct CrimeDef {
    pub code: CrimeRef,
    pub title: &'static str,
    /// True for national articles: the elements are a generic stand-in.
    pub generic: bool,
    pub elements: Vec<ElementDef>,
}

impl CrimeDef {
    pub fn element(&self, id: &str) -> Option<&ElementDef> {
        self.elements.iter().find(|e| e.id == id)
    }
}

const fn el(id: &'static str, kind: ElementKind, text: &'static str) -> ElementDef {
    ElementDef { id, kind, text }
}

use ElementKind::*;

/// The elements shared by every grave breach under Art. 8(2)(a).
const GRAVE_BREACH_COMMON: [ElementDef; 4] = [
    el(
        "protected-status",
        Circumstance,
        "The victim(s) were protected under one or more of the Geneva Conventions of 1949 (e.g. civilians in occupied territory).",
    ),
    el(
        "aware-of-status",
        Mental,
        "The perpetrator was aware of the factual circumstances that established that protected status.",
    ),
    el(
        "nexus-iac",
        Contextual,
        "The conduct took place in the context of and was associated with an international armed conflict.",
    ),
    el(
        "aware-of-conflict",
        Mental,
        "The perpetrator was aware of factual circumstances that established the existence of an armed conflict.",
    ),
];

/// The two contextual elements of Art. 8(2)(b) crimes.
const ART8B_CONTEXT: [ElementDef; 2] = [
    el(
        "nexus-iac",
        Contextual,
        "The conduct took place in the context of and was associated with an international armed conflict.",
    ),
    el(
        "aware-of-conflict",
        Mental,
        "The perpetrator was aware of factual circumstances that established the existence of an armed conflict.",
    ),
];

/// The contextual elements of every crime against humanity under Art. 7.
const CAH_CONTEXT: [ElementDef; 2] = [
    el(
        "widespread-systematic",
        Contextual,
        "The conduct was committed as part of a widespread or systematic attack directed against a civilian population.",
    ),
    el(
        "knew-of-attack",
        Mental,
        "The perpetrator knew that the conduct was part of, or intended it to be part of, such an attack.",
    ),
];

fn with(specific: &[ElementDef], common: &[ElementDef]) -> Vec<ElementDef> {
    specific.iter().chain(common).cloned().collect()
}

/// The definition of a crime: its title and elements.
pub fn definition(crime: &CrimeRef) -> CrimeDef {
    let (title, elements, generic) = match crime.as_str() {
        "RS-8(2)(a)(i)" => (
            "War crime of wilful killing",
            with(
                &[el(
                    "E1",
                    Conduct,
                    "The perpetrator killed one or more persons.",
                )],
                &GRAVE_BREACH_COMMON,
            ),
            false,
        ),
        "RS-8(2)(a)(ii)-1" => (
            "War crime of torture",
            with(
                &[
                    el(
                        "E1",
                        Conduct,
                        "The perpetrator inflicted severe physical or mental pain or suffering upon one or more persons.",
                    ),
                    el(
                        "E2",
                        Mental,
                        "The perpetrator inflicted it for a purpose such as obtaining information or a confession, punishment, intimidation or coercion, or for any reason based on discrimination.",
                    ),
                ],
                &GRAVE_BREACH_COMMON,
            ),
            false,
        ),
        "RS-8(2)(a)(ii)-2" => (
            "War crime of inhuman treatment",
            with(
                &[el(
                    "E1",
                    Conduct,
                    "The perpetrator inflicted severe physical or mental pain or suffering upon one or more persons.",
                )],
                &GRAVE_BREACH_COMMON,
            ),
            false,
        ),
        "RS-8(2)(a)(iii)" => (
            "War crime of wilfully causing great suffering",
            with(
                &[el(
                    "E1",
                    Consequence,
                    "The perpetrator caused great physical or mental pain or suffering to, or serious injury to body or health of, one or more persons.",
                )],
                &GRAVE_BREACH_COMMON,
            ),
            false,
        ),
        "RS-8(2)(b)(i)" => (
            "War crime of attacking civilians",
            with(
                &[
                    el("E1", Conduct, "The perpetrator directed an attack."),
                    el(
                        "E2",
                        Circumstance,
                        "The object of the attack was a civilian population as such or individual civilians not taking direct part in hostilities.",
                    ),
                    el(
                        "E3",
                        Mental,
                        "The perpetrator intended the civilian population as such or individual civilians not taking direct part in hostilities to be the object of the attack.",
                    ),
                ],
                &ART8B_CONTEXT,
            ),
            false,
        ),
        "RS-8(2)(b)(xxi)" => (
            "War crime of outrages upon personal dignity",
            with(
                &[
                    el(
                        "E1",
                        Conduct,
                        "The perpetrator humiliated, degraded or otherwise violated the dignity of one or more persons (case law includes the mistreatment of dead bodies).",
                    ),
                    el(
                        "E2",
                        Circumstance,
                        "The severity of the humiliation, degradation or other violation was of such degree as to be generally recognised as an outrage upon personal dignity.",
                    ),
                ],
                &ART8B_CONTEXT,
            ),
            false,
        ),
        "RS-7(1)(a)" => (
            "Crime against humanity of murder",
            with(
                &[el(
                    "E1",
                    Conduct,
                    "The perpetrator killed one or more persons.",
                )],
                &CAH_CONTEXT,
            ),
            false,
        ),
        "RS-7(1)(f)" => (
            "Crime against humanity of torture",
            with(
                &[
                    el(
                        "E1",
                        Conduct,
                        "The perpetrator inflicted severe physical or mental pain or suffering upon one or more persons.",
                    ),
                    el(
                        "E2",
                        Circumstance,
                        "The person(s) were in the custody or under the control of the perpetrator.",
                    ),
                    el(
                        "E3",
                        Circumstance,
                        "The pain or suffering did not arise only from, and was not inherent in or incidental to, lawful sanctions.",
                    ),
                ],
                &CAH_CONTEXT,
            ),
            false,
        ),
        "RS-7(1)(i)" => (
            "Crime against humanity of enforced disappearance of persons",
            with(
                &[
                    el(
                        "E1",
                        Conduct,
                        "The perpetrator arrested, detained or abducted one or more persons, or refused to acknowledge that deprivation of freedom or to give information on their fate or whereabouts.",
                    ),
                    el(
                        "E2",
                        Circumstance,
                        "The deprivation of freedom was followed or accompanied by a refusal to acknowledge it or to give information on the fate or whereabouts of the person(s) (or the refusal was preceded or accompanied by that deprivation).",
                    ),
                    el(
                        "E3",
                        Circumstance,
                        "The deprivation of freedom or the refusal was carried out by, or with the authorisation, support or acquiescence of, a State or political organisation.",
                    ),
                    el(
                        "E4",
                        Mental,
                        "The perpetrator intended to remove the person(s) from the protection of the law for a prolonged period.",
                    ),
                ],
                &CAH_CONTEXT,
            ),
            false,
        ),
        _ => (
            "National offence (generic elements; refine with national counsel)",
            vec![
                el(
                    "conduct",
                    Conduct,
                    "The prohibited conduct described by the article took place.",
                ),
                el(
                    "victim-status",
                    Circumstance,
                    "The victims or objects had the status the article protects (e.g. civilians, prisoners of war).",
                ),
                el(
                    "nexus",
                    Contextual,
                    "The conduct was connected with an armed conflict (for violations of the laws and customs of war).",
                ),
                el(
                    "mental",
                    Mental,
                    "The perpetrator acted with the intent or knowledge the article requires.",
                ),
                el(
                    "article-specific",
                    Circumstance,
                    "Any further element the national article or its case law requires.",
                ),
            ],
            true,
        ),
    };
    CrimeDef {
        code: crime.clone(),
        title,
        generic,
        elements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labelled_codes() {
        let (c, label) = CrimeRef::parse_labelled("RS-8(2)(a)(i) wilful killing").unwrap();
        assert_eq!(c.as_str(), "RS-8(2)(a)(i)");
        assert_eq!(label.as_deref(), Some("wilful killing"));
        assert_eq!(
            CrimeRef::parse("UA-CC-438 violation of the laws and customs of war")
                .unwrap()
                .as_str(),
            "UA-CC-438"
        );
        let e = CrimeRef::parse("RS-8(2)(z)").unwrap_err();
        assert!(e.to_string().contains("RS-8(2)(a)(i)"), "{e}");
        assert!(CrimeRef::parse("murder").is_err());
    }

    #[test]
    fn grave_breaches_carry_common_elements_and_cah_the_context() {
        let wk = definition(&CrimeRef::parse("RS-8(2)(a)(i)").unwrap());
        let ids: Vec<_> = wk.elements.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            [
                "E1",
                "protected-status",
                "aware-of-status",
                "nexus-iac",
                "aware-of-conflict"
            ]
        );
        let murder = definition(&CrimeRef::parse("RS-7(1)(a)").unwrap());
        assert!(murder.element("widespread-systematic").is_some());
        assert!(murder.element("protected-status").is_none());
        let dignity = definition(&CrimeRef::parse("RS-8(2)(b)(xxi)").unwrap());
        assert!(dignity.element("protected-status").is_none());
        assert!(dignity.element("nexus-iac").is_some());
        let national = definition(&CrimeRef::parse("UA-CC-438").unwrap());
        assert!(national.generic);
        assert_eq!(national.elements.len(), 5);
        for code in ROME_CODES {
            let d = definition(&CrimeRef::parse(code).unwrap());
            assert!(!d.generic, "{code}");
        }
    }
}
