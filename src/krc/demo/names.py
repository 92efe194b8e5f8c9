"""Malian names for synthetic data: given and family names by area, spelling variants, places.

Sources: reference/geography.md "Names" (family names, spelling variants); common Malian given
names; village and Bamako quartier names. Pure data and small helpers, no I/O.
"""

from __future__ import annotations

import random

# Area keys used to pick name pools: south/centre (Bambara, Malinké, Sénoufo...), Kayes
# (Soninké, Khassonké, Malinké), Mopti (Dogon, Peul, Bozo), north (Songhaï, Tamasheq, Arab).
SOUTH, KAYES, CENTRE, NORTH = "south", "kayes", "centre", "north"

REGION_AREA: dict[str, str] = {
    "ML01": KAYES, "ML02": SOUTH, "ML03": SOUTH, "ML04": SOUTH, "ML05": CENTRE,
    "ML06": NORTH, "ML07": NORTH, "ML08": NORTH, "ML09": SOUTH, "ML10": NORTH, "ML11": NORTH,
}

FAMILY_NAMES: dict[str, list[str]] = {
    SOUTH: [
        "Traoré", "Coulibaly", "Diarra", "Keïta", "Koné", "Touré", "Sidibé", "Dembélé",
        "Doumbia", "Camara", "Sangaré", "Konaté", "Kanté", "Togola", "Samaké", "Diakité",
        "Ballo", "Bagayoko", "Berthé", "Mariko", "Sanogo", "Ouattara", "Fofana", "Konaré",
        "Kouyaté", "Tangara", "Dao", "Goïta", "Niaré", "Bengaly", "Diallo", "Cissé",
    ],
    KAYES: [
        "Sissoko", "Diakité", "Camara", "Keïta", "Cissoko", "Soumaré", "Diawara", "Kanouté",
        "Sylla", "Traoré", "Coulibaly", "Diallo", "Dembélé", "Sacko", "Doucouré", "Konaté",
        "Tounkara", "Kanté", "Niakaté", "Diarra",
    ],
    CENTRE: [
        "Guindo", "Dolo", "Kassogué", "Diallo", "Dicko", "Sangaré", "Ongoïba", "Timbiné",
        "Bocoum", "Cissé", "Barry", "Sow", "Tembely", "Poudiougo", "Karambé", "Touré",
        "Maïga", "Traoré", "Coulibaly", "Djimdé", "Tapily", "Kansaye",
    ],
    NORTH: [
        "Maïga", "Touré", "Cissé", "Haïdara", "Dicko", "Ag Ahmed", "Ag Mohamed",
        "Ag Alhousseini", "Ag Attaher", "Ould Sidi", "Ould Mohamed", "Kounta", "Arby",
        "Baby", "Sidibé", "Traoré", "Cissoko", "Diallo", "Ag Assaleh", "Walet Mohamed",
    ],
}

BOYS: dict[str, list[str]] = {
    SOUTH: [
        "Mamadou", "Moussa", "Oumar", "Ibrahim", "Seydou", "Souleymane", "Bakary", "Boubacar",
        "Adama", "Abdoulaye", "Modibo", "Sékou", "Lassina", "Drissa", "Yacouba", "Amadou",
        "Issa", "Aliou", "Cheick", "Salif", "Siaka", "Karim", "Mahamadou", "Ousmane",
        "Alassane", "Daouda", "Youssouf", "Bréhima", "Sidiki", "Fousseyni", "Tiémoko",
        "Zoumana", "Baba", "Moctar", "Ismaïla", "Aboubacar", "Mohamed", "Sory", "Dramane",
        "Lamine",
    ],
    KAYES: [
        "Mamadou", "Moussa", "Samba", "Demba", "Hamady", "Bakary", "Sékou", "Makan",
        "Mody", "Ibrahima", "Sadio", "Djibril", "Boubou", "Abdoulaye", "Kassé", "Fodé",
        "Mahamadou", "Oumar", "Yaya", "Tidiane",
    ],
    CENTRE: [
        "Hamadoun", "Amadou", "Boubacar", "Hama", "Allaye", "Ousmane", "Yacouba", "Mamadou",
        "Ambaliou", "Seydou", "Oumar", "Issa", "Souleymane", "Ali", "Hamidou", "Bouréma",
        "Nouhoum", "Adama", "Mahamane", "Abdramane",
    ],
    NORTH: [
        "Mohamed", "Ahmed", "Aghaly", "Alhousseini", "Mahamadou", "Ibrahim", "Moussa",
        "Assaleh", "Attaher", "Abdoulaye", "Sidi", "Almahdi", "Hamma", "Baba", "Oumar",
        "Moctar", "Alassane", "Ismaïl", "Intalla", "Bilal",
    ],
}

GIRLS: dict[str, list[str]] = {
    SOUTH: [
        "Fatoumata", "Aminata", "Mariam", "Awa", "Kadiatou", "Oumou", "Hawa", "Aïssata",
        "Djénéba", "Assitan", "Kadidia", "Rokia", "Salimata", "Maïmouna", "Nana", "Fanta",
        "Korotoumou", "Bintou", "Sitan", "Ramata", "Safiatou", "Adiaratou", "Habibatou",
        "Massitan", "Nènè", "Mariétou", "Ténin", "Sanata", "Coumba", "Kani", "Alimata",
        "Mah", "Sali", "Fatim", "Tata", "Djeneba", "Minata", "Dado", "Batoma", "Kadi",
    ],
    KAYES: [
        "Fatoumata", "Coumba", "Hawa", "Mariam", "Aminata", "Kadiatou", "Diaba", "Fanta",
        "Sira", "Néné", "Djénéba", "Tenin", "Sadio", "Aïssata", "Binta", "Kandia", "Oumou",
        "Maïmouna", "Mama", "Dalla",
    ],
    CENTRE: [
        "Fatoumata", "Aïssata", "Mariam", "Kadidia", "Hawa", "Ramata", "Oumou", "Aminata",
        "Dikko", "Bintou", "Yah", "Hadjaratou", "Djénéba", "Kadiatou", "Fanta", "Assetou",
        "Maïmouna", "Salamata", "Hadizatou", "Inna",
    ],
    NORTH: [
        "Fatimata", "Mariama", "Zeinabou", "Aïchata", "Hadizatou", "Aminatou", "Fadimata",
        "Tina", "Lalla", "Mariam", "Safiatou", "Hawa", "Raïssa", "Toumana", "Nana",
        "Khadija", "Salamatou", "Takia", "Aïssa", "Oumou",
    ],
}

# Spellings met on forms for the same name (reference/geography.md "Names"); the first form of
# each entry is the standard one used in the pools above.
FAMILY_VARIANTS: dict[str, list[str]] = {
    "Traoré": ["Traore", "Traoré", "TRAORE"],
    "Coulibaly": ["Kulibali", "Koulibaly", "Coulibali"],
    "Keïta": ["Keita", "Kéita", "Keyta"],
    "Maïga": ["Maiga", "Maïga", "Mahiga"],
    "Diarra": ["Djarra", "Diara"],
    "Touré": ["Toure", "Tourè"],
    "Sidibé": ["Sidibe"],
    "Sissoko": ["Sisoko", "Cissoko"],
    "Dembélé": ["Dembele", "Dembelé"],
    "Konaté": ["Konate"],
    "Cissé": ["Cisse", "Sissé"],
    "Sangaré": ["Sangare"],
    "Kanté": ["Kante"],
    "Diakité": ["Diakite", "Djakité"],
    "Doumbia": ["Dumbia", "Doumbya"],
    "Guindo": ["Guindou"],
    "Haïdara": ["Haidara", "Haydara"],
    "Samaké": ["Samake"],
    "Bagayoko": ["Bagayogo"],
    "Ouattara": ["Wattara", "Ouatara"],
}
GIVEN_VARIANTS: dict[str, list[str]] = {
    "Oumar": ["Umar", "Oumarou"],
    "Moussa": ["Musa", "Mousa"],
    "Mariam": ["Mariame", "Maryam", "Mariyam"],
    "Fatoumata": ["Fatoumatta", "Fatumata", "Fatouma"],
    "Aminata": ["Aminatou", "Aminta"],
    "Seydou": ["Seidou", "Saidou"],
    "Ousmane": ["Usman", "Ousman"],
    "Hawa": ["Awa"],
    "Mamadou": ["Mamadu", "Mamoudou"],
    "Aïssata": ["Aissata", "Aïsata"],
    "Ibrahim": ["Ibrahima", "Brahima"],
    "Mohamed": ["Mohammed", "Mahamed"],
    "Djénéba": ["Djeneba", "Jeneba"],
    "Kadiatou": ["Kadiatu", "Kadjatou"],
    "Boubacar": ["Boubakar", "Bubacar"],
    "Abdoulaye": ["Abdoulay", "Abdulaye"],
    "Souleymane": ["Souleyman", "Suleymane"],
    "Youssouf": ["Yousouf", "Yusuf"],
}

# Syllables for plausible village names, by area.
_PREFIXES: dict[str, list[str]] = {
    SOUTH: ["Sanan", "Dia", "Banan", "Sira", "Kala", "Niama", "Kéni", "Mari", "Fala", "Sou",
            "Ségué", "Kassé", "Noum", "Fara", "Kolo", "Siby", "Kama", "Doni", "Tiéma", "Zan",
            "Bla", "Dioun", "Kouri", "Nia", "Fin", "Ména", "Massa", "Kour", "Sama", "Ouolo"],
    KAYES: ["Diaka", "Samba", "Tamba", "Kouni", "Sadio", "Maka", "Gouri", "Dialla", "Kassa",
            "Sirim", "Tinki", "Bafou", "Sékok", "Kolim", "Marin", "Bénié", "Fégui", "Yéli"],
    CENTRE: ["Dou", "Ka", "Ti", "Sa", "Ou", "Ban", "Son", "Tém", "Pél", "Dia", "Koun",
             "Ségué", "Déb", "Sofa", "Nant", "Youwa", "Hom", "Bori", "Kor", "Tori"],
    NORTH: ["Tin", "In", "Ti", "Ber", "Ana", "Tara", "Inta", "Agu", "Taga", "Hamb", "Bou",
            "Ersa", "Tassi", "Adj", "Tinn", "Ouan", "Ebang", "Tedj", "Amach", "Kel"],
}
_SUFFIXES: dict[str, list[str]] = {
    SOUTH: ["bougou", "dougou", "koro", "ko", "kana", "ni", "la", "so", "ba", "dian", "mana",
            "sso", "bala", "diè", "ré", "kélé", "dala", "séni", "fara", "bléni"],
    KAYES: ["bougou", "kané", "dinga", "koto", "ré", "ni", "diané", "mou", "gué", "ndé",
            "kolé", "lla", "mbé", "dougou", "sébé"],
    CENTRE: ["ré", "ri", "lé", "mbo", "go", "dourou", "ndé", "gari", "ssa", "na", "kou",
             "bé", "dji", "gouna", "ra", "nani", "ké"],
    NORTH: ["-Essako", "-Hama", "ssouk", "hamane", "dar", "garet", "kar", "koussou", "rhaz",
            "ouane", "ssak", "mellen", "dara", "baye", "gounda"],
}

# Quartiers of Bamako by commune (health districts "Commune I" ... "Commune VI").
BAMAKO_QUARTIERS: dict[str, list[str]] = {
    "Commune I": ["Banconi", "Boulkassoumbougou", "Djélibougou", "Doumanzana", "Fadjiguila",
                  "Sikoroni", "Sotuba", "Korofina Nord", "Korofina Sud"],
    "Commune II": ["Bagadadji", "Bakaribougou", "Bozola", "Hippodrome", "Médina Coura",
                   "Missira", "Niaréla", "Quinzambougou", "TSF", "Zone Industrielle"],
    "Commune III": ["Bamako-Coura", "Darsalam", "Dravéla", "Badialan", "Bolibana",
                    "Koulouba", "Niomirambougou", "Ouolofobougou", "Point G", "Samé"],
    "Commune IV": ["Lafiabougou", "Hamdallaye", "Djicoroni Para", "Sébénikoro", "Taliko",
                   "Lassa", "Sibiribougou", "Kalabambougou", "Djikoroni"],
    "Commune V": ["Badalabougou", "Kalaban Coura", "Sabalibougou", "Daoudabougou",
                  "Torokorobougou", "Quartier Mali", "Baco-Djicoroni", "Garantibougou"],
    "Commune VI": ["Magnambougou", "Faladié", "Sogoniko", "Banankabougou", "Yirimadio",
                   "Niamakoro", "Sénou", "Missabougou", "Sokorodji", "Dianéguéla"],
}

# Mobile prefixes (first two of the 8 digits) that phonenumbers accepts for Mali.
PHONE_PREFIXES = (
    65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 82, 83, 89, 90, 91, 92,
    93, 94, 95, 96, 97, 98, 99,
)


def village_name(rng: random.Random, area: str) -> str:
    """Return a plausible village name for an area, built from syllables."""
    name = rng.choice(_PREFIXES[area]) + rng.choice(_SUFFIXES[area])
    name = name[0].upper() + name[1:]
    if rng.random() < 0.08 and area in (SOUTH, KAYES):
        name += rng.choice([" Coura", " Were", " Sirakoro", "-Marka", " Bambara"])
    return name


def variant(rng: random.Random, name: str, table: dict[str, list[str]]) -> str:
    """Return another spelling of a name when one is known, else the name itself."""
    forms = table.get(name)
    if not forms:
        return name
    return rng.choice(forms)
