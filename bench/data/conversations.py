"""Long multi-session conversations with questions about them, generated deterministically.

Each user has many sessions (threads) of chat between the user and an assistant: a few hundred
turns in all, most of them small talk that shares words with the facts (the assistant echoes
what the user says, other people do similar things, plans are mentioned before they happen).
Questions ask about the user's facts in other words and name the turns that answer them.

Question types (``Question.kind``) and how many turns answer them:

- ``single``: one turn, asked in other words (paraphrase: few shared words).
- ``detail``: one turn holding a name, date, time or number, among turns that look alike.
- ``coreference``: two consecutive user turns; the second says "she"/"he" instead of the name.
- ``multi-hop``: two turns in different sessions (a relation names a person, later turns say
  what the person did).
- ``aggregate``: three turns in three sessions (every hike, every concert).
- ``update``: one turn, the latest of several that changed the same fact.

Conversations are split by user: even users are ``dev`` (for choosing the ranking), odd users
``test`` (for reporting). Same seed, same data on every machine: only :mod:`random` is used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

KINDS = ("single", "detail", "coreference", "multi-hop", "aggregate", "update")


@dataclass(frozen=True)
class Turn:
    key: str
    thread: str
    time: datetime
    speaker: str
    text: str


@dataclass(frozen=True)
class Question:
    text: str
    evidence: tuple[str, ...]
    kind: str


@dataclass
class Conversation:
    user: str
    split: str
    turns: list[Turn] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


def _w(text: str) -> list[str]:
    return text.split()


NAMES_F = _w("Lena Priya Sofia Hana Ines Olga Marta Nadia Elif Rosa Chloe Amira Zoe Mei Greta")
NAMES_M = _w("Tomas Ravi Jonas Omar Pavel Diego Kenji Lars Malik Felix Yusuf Bruno Arjun Theo")
SURNAMES = _w("Okafor Lindqvist Moreau Tanaka Kowalski Ferreira Novak Haddad Brennan Castillo")
CITIES = _w(
    "Lisbon Oslo Krakow Porto Seville Lyon Ghent Tallinn Bergen Valencia Bologna Dublin Graz"
)
COUNTRIES = _w("Japan Peru Morocco Iceland Vietnam Chile Kenya Norway Greece Mexico Portugal")
PLACES = _w("Ridgeback Foxglove Eagle Cedar Granite Hollow Pine Larkspur Raven Juniper Thorn")
BANDS = _w("Arcadia Blue-Lanterns Velvet-Owls Northbound Glasshouse Saltwater Paper-Kites")
JOBS = _w("nurse architect chef pilot teacher engineer paramedic florist lawyer baker")
MONTHS = _w("January February March April May June July August September October November")
WEEKDAYS = _w("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
RELATIONS_F = ["sister", "cousin", "aunt", "best friend"]
RELATIONS_M = ["brother", "uncle", "cousin", "flatmate"]

# (fact, question, [distractors]); slots filled per user. Distractors share the fact's words
# but say something else.
SINGLE = [
    (
        "I finally signed up for {hobby} lessons, every {day} evening at the community centre.",
        (
            "What new pastime did I start learning?",
            "What lessons did I sign up for at the community centre?",
        ),
        [
            "The community centre is closed on {day2} for repairs.",
            "My neighbour wants me to sign up for a cooking evening at the centre.",
        ],
    ),
    (
        "The doctor confirmed I'm allergic to {allergen}, so no more of that for me.",
        (
            "Which food do I have to stay away from for health reasons?",
            "What did the doctor say I am allergic to?",
        ),
        [
            "I told the doctor about my back pain again.",
            "We had {allergen2} at the party and everyone loved it.",
        ],
    ),
    (
        "We adopted a {pet} from the shelter and called her {petname}.",
        (
            "What is the name of the animal we took home?",
            "What did we call the pet we adopted from the shelter?",
        ),
        [
            "The shelter is looking for volunteers on weekends.",
            "My friend's {pet2} keeps escaping from the garden.",
        ],
    ),
    (
        "My car broke down again, the mechanic says the {part} is shot.",
        ("What is wrong with my vehicle?", "What part of my car does the mechanic say is broken?"),
        [
            "I drove to the mechanic to pick up a friend.",
            "The car park at work is full every morning.",
        ],
    ),
    (
        "I got promoted to senior {job} last week, still can't believe it.",
        ("What title did I get at the office recently?", "What was I promoted to at work?"),
        [
            "A {job2} from the other team left last week.",
            "I can't believe how busy work was last week.",
        ],
    ),
    (
        "I'm learning {language} with an app before the trip next spring.",
        ("Which language am I studying?", "Which language am I learning with the app?"),
        [
            "The app keeps crashing on my phone.",
            "We are planning a trip for next spring, maybe somewhere warm.",
        ],
    ),
    (
        "The wifi password at the cabin is {code}, write it down somewhere.",
        ("What do I type to get online at the cabin?", "What is the wifi password at the cabin?"),
        [
            "The cabin has no phone signal at all.",
            "I changed my email password yesterday.",
        ],
    ),
    (
        "I've been reading {book} before bed, I'm halfway through.",
        (
            "What novel is on my nightstand at the moment?",
            "Which book have I been reading before bed?",
        ),
        [
            "I went to bed early, reading makes me sleepy.",
            "My book club picked something I didn't like.",
        ],
    ),
    (
        "My grandmother's {dish} was the best thing I ate as a kid.",
        (
            "What meal reminds me of my childhood?",
            "What dish did my grandmother make when I was a kid?",
        ),
        [
            "My grandmother called, she is doing fine.",
            "The kid next door ate all the cookies.",
        ],
    ),
    (
        "I'm saving up to buy a house with a big garden near {city}.",
        ("Where am I hoping to own property?", "Near which city do I want to buy a house?"),
        [
            "The garden needs a lot of work this year.",
            "Saving money is hard with rent going up.",
        ],
    ),
]

HOBBIES = _w("pottery salsa violin bouldering watercolour fencing archery ceramics tango")
ALLERGENS = _w("shellfish peanuts sesame kiwi mustard celery walnuts")
PETS = _w("beagle tabby greyhound rabbit terrier ferret parrot")
PETNAMES = _w("Biscuit Pickle Mochi Juniper Waffles Pepper Noodle Clover Ziggy")
PARTS = ["gearbox", "alternator", "clutch", "radiator", "timing belt", "starter motor"]
LANGUAGES = _w("Portuguese Korean Turkish Dutch Greek Swahili Polish Finnish")
BOOKS = [
    "The Salt Road",
    "A Winter Orchard",
    "Nine Lanterns",
    "The Quiet Harbour",
    "Ember and Ash",
    "The Glass Meridian",
]
DISHES = ["plum dumplings", "lentil soup", "apple strudel", "cabbage rolls", "fish stew"]

SMALL_TALK = [
    "{name} and I went to the {venue} on {day}, it was {mood}.",
    "Work was {mood} today, {count} meetings back to back.",
    "I think it's going to rain all {day}.",
    "Did you see the {sport} game last night? What a finish.",
    "I need to buy {grocery} and coffee tomorrow.",
    "Thinking about repainting the {room} {colour}.",
    "The {line} train was late again this morning.",
    "We watched a documentary about {animal}, pretty good.",
    "I should really go to the gym more, maybe on {day}s.",
    "Traffic on the way home from the {venue} was terrible.",
    "I cooked {food} for dinner, nothing fancy.",
    "My back hurts from sitting at the desk all day.",
    "I finally cleaned out the {room}.",
    "Thinking of taking {day} off next week.",
    "The new cafe on {street} Street makes great pastries.",
    "{name} left an umbrella at my place again.",
    "We had {name} and {name2} over for a board game night.",
    "Trying to drink less coffee, day {count} and it's not going well.",
    "My {relation} called, we talked for an hour about {topic}.",
    "A friend of mine just came back from {country}, full of stories.",
    "{name} from work is moving to another city soon.",
    "I was at a concert years ago where it rained the whole time.",
    "Hiking is on my list for the summer, we'll see.",
    "My {relation} keeps sending me photos of a {animal}.",
    "I booked a dentist appointment for {month}, finally.",
    "The flight prices to {city} for next month are crazy.",
    "My manager wants a new report every {day} now.",
    "{name} is looking for a new job as a {job}.",
    "We might visit {city} in {month}, nothing booked yet.",
    "{name} recommended a book but I forgot the title.",
    "The {venue} near us is closing at the end of {month}.",
    "Our neighbours got a {animal}, it barks all night.",
]
CHATTER_SLOTS = {
    "venue": _w("cinema market museum park library pool stadium bakery theatre"),
    "mood": ["fun", "exhausting", "lovely", "a bit boring", "intense", "relaxing"],
    "sport": _w("football tennis basketball hockey rugby"),
    "grocery": _w("eggs rice apples bread cheese tomatoes"),
    "room": ["garage", "attic", "kitchen", "spare room", "hallway", "bathroom"],
    "colour": _w("green white grey blue yellow"),
    "line": _w("7:40 8:15 north east express"),
    "animal": _w("whales octopuses wolves bees elephants owls"),
    "food": ["pasta", "curry", "soup", "tacos", "a stir fry", "risotto"],
    "street": _w("Mill Bridge Station Church Harbour Elm"),
    "topic": ["nothing", "her garden", "politics", "old school friends", "the holidays"],
    "count": [str(n) for n in range(2, 9)],
}
REPLIES = [
    "That sounds {mood}! Tell me more about {echo}.",
    "Oh, {echo}? How do you feel about it?",
    "I'll remember that about {echo}.",
    "Interesting. What made you think of {echo}?",
    "Got it. Anything else on your mind besides {echo}?",
    "Ha, {echo} again! You mention it a lot.",
]
MOODS = ["great", "exhausting", "lovely", "intense", "fun", "stressful"]


class _Builder:
    def __init__(self, rng: random.Random, user: str, sessions: int) -> None:
        self.rng = rng
        self.user = user
        self.sessions: list[list[tuple[str, str]]] = [[] for _ in range(sessions)]
        self.marks: dict[int, tuple[int, int]] = {}  # fact id -> (session, position)
        self.facts = 0

    def say(self, session: int, text: str, speaker: str = "user") -> int:
        """Queue a turn (at a random place in the session, kept in order with later ones)."""
        self.sessions[session].append((speaker, text))
        self.facts += 1
        self.marks[self.facts] = (session, len(self.sessions[session]) - 1)
        return self.facts

    def chatter(self, session: int, count: int) -> None:
        rng = self.rng
        for _ in range(count):
            slots = {name: rng.choice(pool) for name, pool in CHATTER_SLOTS.items()}
            slots |= {
                "name": rng.choice(NAMES_F + NAMES_M),
                "name2": rng.choice(NAMES_F + NAMES_M),
                "day": rng.choice(WEEKDAYS),
                "relation": rng.choice(RELATIONS_F + RELATIONS_M),
                "country": rng.choice(COUNTRIES),
                "city": rng.choice(CITIES),
                "month": rng.choice(MONTHS),
                "job": rng.choice(JOBS),
            }
            text = rng.choice(SMALL_TALK).format(**slots)
            self.say(session, text)
            self.reply(session, _echo(text, rng))

    def reply(self, session: int, echo: str) -> None:
        template = self.rng.choice(REPLIES)
        self.say(session, template.format(mood=self.rng.choice(MOODS), echo=echo), "assistant")


def _echo(text: str, rng: random.Random) -> str:
    words = [w.strip(".,!?'") for w in text.split() if len(w.strip(".,!?'")) > 3]
    start = rng.randrange(max(1, len(words) - 2))
    return " ".join(words[start : start + 3]).lower() or "that"


def _conversation(index: int, seed: int, sessions: int = 14) -> Conversation:
    rng = random.Random(seed * 1000 + index)
    user = f"user{index:02d}"
    b = _Builder(rng, user, sessions)
    pending: list[tuple[str, list[int], str]] = []  # question, fact ids, kind
    pick = rng.sample
    female, male = pick(NAMES_F, 10), pick(NAMES_M, 10)

    def fact(session: int, text: str, echo: bool = True) -> int:
        b.chatter(session, rng.randint(1, 3))
        found = b.say(session, text)
        if echo:
            b.reply(session, _echo(text, rng))
        return found

    def s() -> int:
        return rng.randrange(sessions)

    # single: paraphrased facts with distractors spread over other sessions
    def ask(*phrasings: str) -> str:
        return rng.choice(phrasings)

    for template, questions, distractors in pick(SINGLE, 6):
        question = ask(*questions)
        slots = {
            "hobby": rng.choice(HOBBIES),
            "day": rng.choice(WEEKDAYS),
            "day2": rng.choice(WEEKDAYS),
            "allergen": rng.choice(ALLERGENS),
            "allergen2": rng.choice(ALLERGENS),
            "pet": rng.choice(PETS),
            "pet2": rng.choice(PETS),
            "petname": rng.choice(PETNAMES),
            "part": rng.choice(PARTS),
            "job": rng.choice(JOBS),
            "job2": rng.choice(JOBS),
            "language": rng.choice(LANGUAGES),
            "code": f"{rng.choice(PETNAMES).lower()}{rng.randint(100, 999)}",
            "book": rng.choice(BOOKS),
            "dish": rng.choice(DISHES),
            "city": rng.choice(CITIES),
        }
        pending.append((question, [fact(s(), template.format(**slots))], "single"))
        for distractor in distractors:
            fact(s(), distractor.format(**slots))

    # detail: flights, appointments and birthdays that look alike
    cities = pick(CITIES, 4)
    for city in cities:
        day, month = rng.randint(1, 28), rng.choice(MONTHS)
        hour = f"{rng.randint(6, 21):02d}:{rng.choice(['05', '20', '35', '50'])}"
        code = f"{rng.choice(['LX', 'TP', 'FR', 'SK'])}{rng.randint(100, 9999)}"
        turn = fact(s(), f"Booked it: flight {code} to {city} on {month} {day}, departs {hour}.")
        question = ask(
            f"What time does my plane to {city} take off?", f"When does my flight to {city} depart?"
        )
        pending.append((question, [turn], "detail"))
        fact(s(), f"Last time I flew to {city} the flight was delayed {rng.randint(2, 5)} hours.")
        fact(s(), f"{rng.choice(female + male)} takes the early flight to {city} on {hour[:2]}th.")
    for surname in pick(SURNAMES, 3):
        day, month = rng.randint(1, 28), rng.choice(MONTHS)
        turn = fact(s(), f"Appointment with Dr {surname} on {month} {day} about my knee.")
        question = ask(
            f"When am I supposed to see Dr {surname}?",
            f"What date is my appointment with Dr {surname}?",
        )
        pending.append((question, [turn], "detail"))
        fact(s(), f"Dr {surname} was running late, the waiting room was packed.")
    friends = pick(female + male, 3)
    for friend in friends:
        day, month = rng.randint(1, 28), rng.choice(MONTHS)
        turn = fact(s(), f"Note to self: {friend}'s birthday is {month} {day}.")
        fact(s(), f"{friend} and I grabbed lunch, {friend} says hi.")
        question = ask(f"On what date was {friend} born?", f"When is {friend}'s birthday?")
        pending.append((question, [turn], "detail"))

    # coreference: a named person, then "she"/"he" in the next user turn
    for number in range(3):
        female_side = number % 2 == 0
        name = (female if female_side else male)[3 + number]
        pronoun = "She" if female_side else "He"
        country = rng.choice(COUNTRIES)
        highlight = rng.choice(
            ["the night markets", "a glacier walk", "surfing lessons", "the street food"]
        )
        session = s()
        b.chatter(session, 2)
        first = b.say(session, f"{name} just got back from {country} yesterday.")
        second = b.say(session, f"{pronoun} said the best part was {highlight}, honestly.")
        b.reply(session, _echo(highlight, rng))
        pending.append(
            (
                f"What did {name} enjoy most about visiting {country}?",
                [first, second],
                "coreference",
            )
        )
        fact(s(), f"{name} wants to go back to {country} next year.")

    # multi-hop: relation -> name in one session, name -> fact in a later one
    relations = [("sister", True), ("brother", False), ("aunt", True), ("uncle", False)]
    for number, (relation, female_side) in enumerate(pick(relations, 3)):
        name = (female if female_side else male)[6 + number]
        city, job = rng.choice(CITIES), rng.choice(JOBS)
        early = rng.randrange(sessions // 2)
        late = rng.randrange(sessions // 2, sessions)
        first = fact(early, f"My {relation} {name} is the funniest person I know.")
        second = fact(late, f"{name} got a job as a {job} and is moving to {city} in June.")
        fact(s(), f"My {relation} always gives the best advice.")
        pending.append(
            (
                ask(
                    f"Where is my {relation} relocating for work?",
                    f"Which city is my {relation} moving to?",
                ),
                [first, second],
                "multi-hop",
            )
        )

    # decoys: the same kinds of facts about people nobody asks about (names and places are
    # what tells them apart)
    for _ in range(8):
        other, place = rng.choice(NAMES_F + NAMES_M), rng.choice(COUNTRIES + CITIES)
        day, month = rng.randint(1, 28), rng.choice(MONTHS)
        decoys = [
            f"Note to self: {other}'s birthday is {month} {day}.",
            f"{other} just got back from {place}, {rng.choice(['loved', 'hated'])} it.",
            f"{other} got a job as a {rng.choice(JOBS)} and is moving to {place}.",
            f"{other} has an appointment with Dr {rng.choice(SURNAMES)} on {month} {day}.",
            f"{other} booked flight {rng.choice(['LX', 'FR'])}{rng.randint(100, 999)} to {place}.",
        ]
        for text in rng.sample(decoys, 3):
            fact(s(), text, echo=rng.random() < 0.5)

    # aggregate: three turns of the same kind in three sessions
    places = pick(PLACES, 3)
    hikes = [
        fact(session, f"We hiked up to {place} ridge on Saturday, my legs are dead.")
        for session, place in zip(pick(range(sessions), 3), places)
    ]
    fact(s(), f"Someday I want to hike {rng.choice(PLACES)} ridge, maybe next year.")
    question = ask("Where have I been hiking lately?", "Which ridges have I hiked this year?")
    pending.append((question, hikes, "aggregate"))
    bands = pick(BANDS, 3)
    gigs = [
        fact(session, f"Saw {band} live last night, the crowd was amazing.")
        for session, band in zip(pick(range(sessions), 3), bands)
    ]
    question = ask("Which concerts did I go to?", "Which bands have I seen live?")
    pending.append((question, gigs, "aggregate"))

    # update: the same fact changed over time; the latest turn answers
    homes = pick(CITIES, 3)
    moves = [
        fact(session, f"We moved into a flat in {city}, still unpacking boxes.")
        for session, city in zip(sorted(pick(range(sessions), 3)), homes)
    ]
    question = ask("Where do we live these days?", "Which city is our flat in now?")
    pending.append((question, [moves[-1]], "update"))
    jobs = pick(JOBS, 3)
    roles = [
        fact(session, f"Started a new position as a {job} this month, first days are hectic.")
        for session, job in zip(sorted(pick(range(sessions), 3)), jobs)
    ]
    question = ask("What is my current job?", "What position do I hold now?")
    pending.append((question, [roles[-1]], "update"))

    for session in range(sessions):
        b.chatter(session, rng.randint(8, 12))

    conversation = Conversation(user=user, split="dev" if index % 2 == 0 else "test")
    keys: dict[tuple[int, int], str] = {}
    start = datetime(2024, 1, 8, 9, 0) + timedelta(days=rng.randint(0, 30))
    for session, turns in enumerate(b.sessions):
        clock = start + timedelta(days=9 * session, hours=rng.randint(0, 10))
        thread = f"{user}-session-{session:02d}"
        for position, (speaker, text) in enumerate(turns):
            key = f"{user}-{session:02d}-{position:03d}"
            keys[(session, position)] = key
            clock += timedelta(seconds=rng.randint(20, 90))
            conversation.turns.append(Turn(key, thread, clock, speaker, text))
    for question, ids, kind in pending:
        evidence = tuple(keys[b.marks[i]] for i in ids)
        conversation.questions.append(Question(question, evidence, kind))
    return conversation


def build(seed: int = 0, users: int = 16) -> list[Conversation]:
    """``users`` conversations (half ``dev``, half ``test``), the same for the same seed."""
    return [_conversation(index, seed) for index in range(users)]
