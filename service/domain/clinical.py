"""Clinical words no text may carry: a text is read by whoever holds the phone (a lock screen,
a family member), so none names a diagnosis, a condition or a treatment.

Pure. The list is the practice's, shipped here, in English and Spanish. Matching is on whole
words (a plural "s"/"es" allowed), ignoring case and accents, so "Paralisis Cerebral" is found
as "parálisis cerebral" and "palsy" is not found inside "palsyx".
"""

from __future__ import annotations

import re

from service.domain.folding import fold

TERMS = (
    # Conditions and diagnoses (English).
    "cerebral palsy",
    "palsy",
    "spasticity",
    "spastic",
    "multiple sclerosis",
    "sclerosis",
    "parkinson",
    "parkinson's",
    "stroke",
    "dystonia",
    "fibromyalgia",
    "arthritis",
    "scoliosis",
    "muscular dystrophy",
    "dystrophy",
    "spinal cord injury",
    "injury",
    "paralysis",
    "paraplegia",
    "quadriplegia",
    "tetraplegia",
    "hemiplegia",
    "diplegia",
    "seizure",
    "epilepsy",
    "contracture",
    "autism",
    "disability",
    "chronic",
    "diagnosis",
    "diagnosed",
    "condition",
    # Treatments (English).
    "therapy",
    "therapist",
    "physiotherapy",
    "physical therapy",
    "massage",
    "treatment",
    "neuromuscular",
    "medication",
    "botox",
    "baclofen",
    "injection",
    # Conditions and diagnoses (Spanish).
    "parálisis cerebral",
    "parálisis",
    "espasticidad",
    "espástico",
    "espástica",
    "esclerosis múltiple",
    "esclerosis",
    "párkinson",
    "ictus",
    "derrame cerebral",
    "distonía",
    "fibromialgia",
    "artritis",
    "escoliosis",
    "distrofia muscular",
    "distrofia",
    "lesión medular",
    "lesión",
    "paraplejia",
    "tetraplejia",
    "hemiplejia",
    "convulsión",
    "convulsiones",
    "epilepsia",
    "contractura",
    "autismo",
    "discapacidad",
    "crónico",
    "crónica",
    "diagnóstico",
    # Treatments (Spanish).
    "terapia",
    "terapeuta",
    "fisioterapia",
    "masaje",
    "tratamiento",
    "medicación",
    "medicamento",
    "inyección",
    "toxina botulínica",
)


def _pattern(term: str) -> str:
    """A folded term as a whole-word pattern: any run of spaces, an optional plural."""
    folded = fold(term)[0]
    return r"\s+".join(re.escape(word) for word in folded.split()) + r"(?:s|es)?"


# Longest first, so "cerebral palsy" is named rather than "palsy".
_TERMS = re.compile(
    r"(?<![^\W_])(?:"
    + "|".join(_pattern(t) for t in sorted(TERMS, key=len, reverse=True))
    + r")(?![^\W_])"
)


def found(text: str) -> list[str]:
    """The clinical terms in ``text``, as the text writes them, in order, each once."""
    folded, origin = fold(text)
    seen: list[str] = []
    for match in _TERMS.finditer(folded):
        words = text[origin[match.start()] : origin[match.end() - 1] + 1]
        if words.lower() not in (s.lower() for s in seen):
            seen.append(words)
    return seen
