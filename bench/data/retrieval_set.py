"""A labelled retrieval set of our own: stored memories and the questions that should find them.

Everything is generated from the hand-written lists below with a seeded RNG, so a seed gives
the same set on every machine. Seeds 1 and 2 are development splits (used to pick the fusion
constants of the hybrid ranking); seed 3 is the test split that bench/retrieval.py reports.

Parts (each query has exactly one relevant memory among all the people's memories):

- ``paraphrase``: facts asked about in other words ("Amara's parrot is called Biscuit" /
  "What is Amara's pet named?"): only the person's name is shared, the meaning decides.
- ``names``: rare surnames and nicknames that the embedding model barely represents.
- ``numbers``: flight codes, number plates, room numbers, dates.
- ``dialogue``: chatty conversation turns, asked about later.
- ``near_duplicates``: memories that differ in one detail (sister/brother, old/new address).

Forty background memories per person (chatter about the same people, places and topics) are
stored too and never asked about: they are the distractors.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    """Amara Bilal Chiara Dmitri Esme Farid Greta Hiroshi Ines Jonas Keziah Lars Mei
Nnamdi Olga Pavel Quentin Rosa Sanjay Tove Umar Valentina Wen Ximena Yusuf Zofia Anouk Bruno
Carmen Dario Elif Finn Gulnara Hamid Ingrid Jakub Kalani Leila Mateo Noor"""
)

RARE_PEOPLE = _words(
    """Okonkwo Thistlewood Vasquez-Arriaga Brzezinski Nakagawa-Lindqvist Oyelaran
Featherstonehaugh Kowalczuk Achterberg Quartermaine Zeferino Ravensworth Abernathy-Oduya
Iskandarov Marchetti-Bloom Tshabalala Van-Oosterhout Gwynedd Pemberton-Ncube Holloway
Szczepanski Dunleavy Amadi-Brandt Castellanos Lindgren-Moss Okafor Thorvaldsen Yamamura-Price
Bellweather Kasprzak"""
)

NICKNAMES = _words(
    """Ziggy Bumblebee Pixel Moose Sparky Tinker Noodle Biscotti Waffles Gizmo Pickle
Rocket Mochi Dodger Pebbles Scooter Turbo Jellybean Maverick Sprout Fudge Marbles Domino Zorro
Taco Pogo Chewie Bamboo Kiwi Radar"""
)

ROLES = [
    ("landlord", "Who owns the flat {name} rents?"),
    ("dentist", "Who does {name} see about a toothache?"),
    ("piano teacher", "Who gives {name} music lessons?"),
    ("accountant", "Who does {name}'s tax return?"),
    ("neighbour", "Who lives next door to {name}?"),
    ("manager", "Who is {name}'s boss?"),
]

PETS = [
    ("parrot", "Biscuit"),
    ("cat", "Miso"),
    ("dog", "Pepper"),
    ("tortoise", "Sheldon"),
    ("rabbit", "Clover"),
    ("hamster", "Nugget"),
    ("goldfish", "Bubbles"),
    ("iguana", "Rex"),
]
JOBS = [
    ("nurse", "St Mary's hospital"),
    ("software engineer", "a fintech startup"),
    ("carpenter", "a furniture workshop"),
    ("lawyer", "a city law firm"),
    ("chef", "an Italian restaurant"),
    ("pilot", "a regional airline"),
    ("teacher", "the local primary school"),
    ("architect", "a design studio"),
]
ALLERGENS = ["peanuts", "shellfish", "gluten", "dairy", "strawberries", "sesame", "eggs", "kiwi"]
CITIES = [
    "Lisbon",
    "Nairobi",
    "Osaka",
    "Tallinn",
    "Montevideo",
    "Marrakesh",
    "Reykjavik",
    "Hanoi",
    "Krakow",
    "Valparaiso",
    "Accra",
    "Bergen",
    "Cusco",
    "Ljubljana",
    "Porto",
]
INSTRUMENTS = ["cello", "violin", "drums", "trumpet", "piano", "guitar", "flute", "saxophone"]
DRINKS = [
    "green tea",
    "black coffee",
    "hot chocolate",
    "oat milk latte",
    "orange juice",
    "matcha",
    "espresso",
    "chai",
]
SPORTS = [
    "rock climbing",
    "swimming",
    "tennis",
    "marathon running",
    "yoga",
    "cycling",
    "rowing",
    "fencing",
]
FOODS = ["ramen", "lasagne", "tacos", "sushi", "curry", "paella", "pho", "dumplings"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
CARS = ["Volvo", "Toyota", "Fiat", "Skoda", "Renault", "Honda", "Kia", "Peugeot"]
COLOURS = ["red", "blue", "silver", "black", "white", "green", "grey", "yellow"]
AIRLINES = ["LH", "BA", "KL", "TP", "AF", "IB", "SK", "LX"]
RELATIVES = [("sister", "brother"), ("mother", "father"), ("aunt", "uncle"),
             ("daughter", "son")]  # fmt: skip

# (memory template, question template); the question shares only the name with the memory
PARAPHRASE = [
    ("{name}'s {pet} is called {petname}.", "What is {name}'s pet named?"),
    ("{name} works as a {job} at {place}.", "What does {name} do for a living?"),
    ("{name} is allergic to {allergen}.", "Which food makes {name} ill?"),
    ("{name} grew up in {city}.", "Where is {name} originally from?"),
    ("{name} has been learning the {instrument} for {years} years.",
     "Which musical instrument does {name} practise?"),
    ("{name} prefers {drink} in the morning.", "What does {name} like at breakfast time?"),
    ("{name} goes {sport} every weekend.", "How does {name} keep fit?"),
    ("{name}'s favourite dish is {food}.", "What meal does {name} enjoy most?"),
]  # fmt: skip

DIALOGUE = [
    ("User: ugh, {name} again forgot that the {instrument} recital is next {weekday}",
     "When is the recital {name} keeps forgetting?"),
    ("User: honestly the {time} train to {city2} is killing me, I take it every day now",
     "Which train does the user take to {city2}?"),
    ("User: {name} finally adopted a {pet} last week, it's tiny and loud",
     "Did {name} get a new animal recently?"),
    ("User: remind me that {name} can't eat anything with {allergen}, the party is on {weekday}",
     "What should the party food for {name} avoid?"),
    ("User: I think {name} would love a {sport} lesson as a birthday present",
     "What gift idea did I have for {name}?"),
    ("User: we booked the table at the {food} place for {name}'s promotion dinner",
     "Where are we celebrating {name}'s new job?"),
]  # fmt: skip
# background chatter: memories nobody asks about, sharing names, places and topics with the rest
FILLER = [
    "{name} said the weather in {city} was {adjective} all week.",
    "{name} bought a new {thing} and is very happy with it.",
    "{name} is reading a book about {topic}.",
    "User: {name} called again about the {thing}, I'll deal with it {weekday}.",
    "{name} will visit {city} in {month} for a conference on {topic}.",
    "{name}'s {relative} works as a {job}.",
    "{name} recommended a podcast about {topic}.",
    "User: can you remind me to send {name} the photos from {city}?",
    "{name} is thinking about learning {language}.",
    "{name} complained that the {thing} broke after {years} months.",
    "User: lunch with {name} on {weekday} was nice, we talked about {topic}.",
    "{name} prefers meetings before {hour} o'clock.",
    "{name} ran a {distance} km race in {city} in {month}.",
    "{name} is saving up for a trip to {city}.",
    "User: {name} sent me a recipe for {food}, looks easy.",
]
ADJECTIVES = ["rainy", "freezing", "sunny", "humid", "windy", "grey", "perfect", "stormy"]
THINGS = ["laptop", "bicycle", "washing machine", "phone", "camera", "kettle", "sofa", "printer"]
TOPICS = [
    "astronomy",
    "medieval history",
    "gardening",
    "economics",
    "climate policy",
    "photography",
    "chess openings",
    "bird migration",
    "architecture",
    "jazz",
]
LANGUAGES = ["Portuguese", "Japanese", "Swahili", "Finnish", "Arabic", "Korean", "Polish"]
FILLER_PER_PERSON = 40

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class Memory:
    key: str
    text: str


@dataclass(frozen=True)
class Question:
    part: str
    text: str
    answer: str  # the key of the one relevant memory


def build(seed: int) -> tuple[list[Memory], list[Question]]:
    """The memories and questions of one split (seeds 1, 2: development; seed 3: test)."""
    rng = random.Random(seed)
    memories: list[Memory] = []
    questions: list[Question] = []

    def add(part: str, text: str, question: str | None) -> None:
        key = f"m{len(memories)}"
        memories.append(Memory(key, text))
        if question is not None:
            questions.append(Question(part, question, key))

    people = rng.sample(FIRST_NAMES, 30)
    rare_people = rng.sample(RARE_PEOPLE, len(people))
    nicknames = rng.sample(NICKNAMES, len(people))
    for number, person in enumerate(people):
        for _ in range(FILLER_PER_PERSON):
            template = rng.choice(FILLER)
            relative = rng.choice(RELATIVES)[rng.randint(0, 1)]
            add("filler", template.format(
                name=person, city=rng.choice(CITIES), adjective=rng.choice(ADJECTIVES),
                thing=rng.choice(THINGS), topic=rng.choice(TOPICS), weekday=rng.choice(WEEKDAYS),
                month=rng.choice(MONTHS), relative=relative, job=rng.choice(JOBS)[0],
                language=rng.choice(LANGUAGES), years=rng.randint(2, 30),
                hour=rng.randint(8, 17), distance=rng.choice([5, 10, 21, 42]),
                food=rng.choice(FOODS),
            ), None)  # fmt: skip
        pet, petname = rng.choice(PETS)
        job, place = rng.choice(JOBS)
        slots = {
            "name": person, "pet": pet, "petname": petname, "job": job, "place": place,
            "allergen": rng.choice(ALLERGENS), "city": rng.choice(CITIES),
            "instrument": rng.choice(INSTRUMENTS), "years": rng.randint(2, 15),
            "drink": rng.choice(DRINKS), "sport": rng.choice(SPORTS), "food": rng.choice(FOODS),
        }  # fmt: skip
        asked = rng.sample(range(len(PARAPHRASE)), 3)
        for i, (memory, question) in enumerate(PARAPHRASE):
            add(
                "paraphrase",
                memory.format(**slots),
                question.format(**slots) if i in asked else None,
            )

        # names: a rare person in a role for this person; several people share each role
        rare = rare_people[number]
        role, _ = rng.choice(ROLES)
        add("names", f"{rare} is {person}'s {role}.", f"Who is {rare}?")
        nickname = nicknames[number]
        add("names", f"Everyone at the office calls {person} '{nickname}'.",
            f"Who goes by the nickname {nickname}?")  # fmt: skip

        # numbers and dates
        flight = f"{rng.choice(AIRLINES)}{rng.randint(1000, 9999)}"
        day, month, year = rng.randint(1, 28), rng.choice(MONTHS), rng.randint(2015, 2025)
        trip_city = rng.choice(CITIES)
        add("numbers", f"{person} flies to {trip_city} on flight {flight} on {day} {month} {year}.",
            f"Who is on flight {flight}?")  # fmt: skip
        plate = f"{rng.choice('BKMRTX')}{rng.choice('AEHLNS')}-{rng.randint(100, 999)}-" + "".join(
            rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2)
        )
        add("numbers", f"{person} drives a {rng.choice(COLOURS)} {rng.choice(CARS)} with the "
            f"number plate {plate}.", f"Whose car has the plate {plate}?")  # fmt: skip
        room = f"{rng.randint(1, 9)}.{rng.randint(10, 60)}"
        add("numbers", f"{person}'s desk is in room {room}.", f"Who sits in room {room}?")
        bday, bmonth = rng.randint(1, 28), rng.choice(MONTHS)
        add("numbers", f"{person} was born on {bday} {bmonth} {rng.randint(1960, 2005)}.",
            f"Whose birthday is on {bday} {bmonth}?")  # fmt: skip

        # dialogue turns
        turn_slots = {
            **slots, "weekday": rng.choice(WEEKDAYS), "city2": rng.choice(CITIES),
            "time": f"{rng.randint(5, 9)}:{rng.choice(['05', '10', '25', '40', '55'])}",
        }  # fmt: skip
        for i in rng.sample(range(len(DIALOGUE)), 2):
            memory, question = DIALOGUE[i]
            add("dialogue", memory.format(**turn_slots), question.format(**turn_slots))

        # near duplicates: same person, same kind of fact, one detail differs
        one, other = rng.choice(RELATIVES)
        city_a, city_b = rng.sample(CITIES, 2)
        add("near_duplicates", f"{person}'s {one} lives in {city_a}.",
            f"Where does {person}'s {one} live?")  # fmt: skip
        add("near_duplicates", f"{person}'s {other} lives in {city_b}.",
            f"In which city does {person}'s {other} live?")  # fmt: skip
        old, new = rng.sample(CITIES, 2)
        add("near_duplicates", f"{person} used to live in {old} before moving.", None)
        add("near_duplicates", f"{person} moved to {new} last year and lives there now.",
            f"Where does {person} live at the moment?")  # fmt: skip

    return memories, questions


PARTS = ("paraphrase", "names", "numbers", "dialogue", "near_duplicates")
