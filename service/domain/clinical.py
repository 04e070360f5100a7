"""Clinical words no text may carry: a text is read by whoever holds the phone (a lock screen,
a family member), so none names a diagnosis, a condition or a treatment.

Pure. The list is the practice's, shipped here, in English and Spanish. Matching is on whole
words of the folded text (``folding.fold``: any case, accents off), with the plurals the
languages make ("injuries", "therapies", "diagnoses", "lesiones"), so "Paralisis Cerebral"
is found as "parálisis cerebral" and "palsy" is not found inside "palsyx". A Cyrillic or
Greek letter that looks like a Latin one ("therapy" typed with a Cyrillic "a", "THERAPY"
with a Greek "H") reads as that letter: the list cannot be slipped past with look-alikes.
"""

from __future__ import annotations

import re

from service.domain.folding import fold

# Diagnoses and conditions: no text, and not the practice's name either.
CONDITIONS = (
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
    "autistic",
    "autist",
    "asperger",
    "adhd",
    "down syndrome",
    "spina bifida",
    "hypotonia",
    "hypertonia",
    "torticollis",
    "developmental delay",
    "brain injury",
    "concussion",
    "neuropathy",
    "amputation",
    "amputee",
    "paralyzed",
    "paralysed",
    "epileptic",
    "disorder",
    "disabled",
    "disability",
    "chronic",
    "diagnosis",
    "diagnosed",
    "condition",
    "disease",
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
    "autista",
    "síndrome de down",
    "espina bífida",
    "hipotonía",
    "hipertonía",
    "tortícolis",
    "retraso del desarrollo",
    "conmoción cerebral",
    "neuropatía",
    "amputación",
    "amputado",
    "amputada",
    "paralizado",
    "paralizada",
    "epiléptico",
    "epiléptica",
    "trastorno",
    "discapacitado",
    "discapacitada",
    "enfermedad",
    "afección",
    "discapacidad",
    "crónico",
    "crónica",
    "diagnóstico",
    "diagnosticado",
    "diagnosticada",
)

# Treatments: no text names one; the practice's own name may (a practice is
# often called after its trade: "Bright Path Massage").
TREATMENTS = (
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
    "rehabilitation",
    "rehab",
    "physio",
    "physiotherapist",
    "hydrotherapy",
    "orthosis",
    "orthotic",
    "splint",
    "wheelchair",
    "surgery",
    "prescription",
    "acupuncture",
    "dry needling",
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
    "rehabilitación",
    "fisio",
    "fisioterapeuta",
    "hidroterapia",
    "logopedia",
    "ortesis",
    "férula",
    "silla de ruedas",
    "cirugía",
    "receta médica",
    "acupuntura",
)

TERMS = CONDITIONS + TREATMENTS


# Letters of other alphabets that look like a Latin one, as ``fold`` leaves them (case-folded):
# each Latin letter of a term also matches these.
LOOK_ALIKES = {
    "a": "\u0430\u03b1",
    "b": "\u0432\u044c",
    "c": "\u0441\u03f2",
    "d": "\u0501",
    "e": "\u0435\u0454\u03b5",
    "g": "\u0261",
    "h": "\u04bb\u043d\u03b7",
    "i": "\u0456\u03b9\u04cf",
    "j": "\u0458",
    "k": "\u043a\u03ba",
    "l": "\u04cf\u03b9",
    "m": "\u043c\u03bc",
    "n": "\u03b7\u043f",
    "o": "\u043e\u03bf\u03c3",
    "p": "\u0440\u03c1",
    "q": "\u051b",
    "s": "\u0455",
    "t": "\u0442\u03c4",
    "u": "\u03c5",
    "v": "\u03bd\u0475",
    "w": "\u051d\u03c9",
    "x": "\u0445\u03c7",
    "y": "\u0443\u03b3\u03c5",
}


def _letters(word: str) -> str:
    """A folded word as a pattern whose letters also match their look-alikes."""
    return "".join(
        f"[{char}{LOOK_ALIKES[char]}]" if char in LOOK_ALIKES else re.escape(char) for char in word
    )


def _plural(word: str) -> str:
    """A folded word's last word with its plurals: therapy(ies), diagnosis/diagnoses,
    lesion(es), cerebral palsy(s)."""
    if word.endswith("y"):
        return _letters(word[:-1]) + "(?:" + _letters("y") + _letters("s") + "?|ies)"
    if word.endswith("is"):
        return _letters(word[:-2]) + "(?:is|es)"
    return _letters(word) + "(?:" + _letters("s") + "|" + _letters("es") + ")?"


def _pattern(term: str) -> str:
    """A folded term as a whole-word pattern: any run of spaces, plurals of the last word."""
    *first, last = fold(term)[0].split()
    return r"\s+".join([*(_letters(w) for w in first), _plural(last)])


def _compile(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word patterns of ``terms``, longest first, so "cerebral palsy" is named rather
    than "palsy"."""
    alternatives = "|".join(_pattern(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(r"(?<![^\W_])(?:" + alternatives + r")(?![^\W_])")


_TERMS = _compile(TERMS)
_CONDITIONS = _compile(CONDITIONS)


def reason(term: str) -> str:
    """Why a text (or the practice's name, which most texts carry) may not hold ``term``."""
    return f'"{term}" is a clinical word: a text is seen by whoever holds the phone'


def found(text: str, *, conditions_only: bool = False) -> list[str]:
    """The clinical terms in ``text``, as the text writes them, in order, each once
    (``conditions_only``: the diagnoses and conditions, for the practice's name)."""
    folded, origin = fold(text)
    seen: list[str] = []
    for match in (_CONDITIONS if conditions_only else _TERMS).finditer(folded):
        words = text[origin[match.start()] : origin[match.end() - 1] + 1]
        if words.lower() not in (s.lower() for s in seen):
            seen.append(words)
    return seen
