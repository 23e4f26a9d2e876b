"""Long multi-session conversations with questions about them, generated deterministically.

Each user has 14 sessions (threads) of chat between the user and an assistant, about 600 turns
in all, most of them small talk that shares words with the facts: the assistant echoes what the
user says, other people do similar things (decoys), plans and past events are mentioned beside
the ones asked about, and a fact is often told in a longer turn that starts with something else
or is split over two turns. Questions ask about the user's facts, mostly in other words, and
name the turns that answer them (the user's turns; the assistant's echoes are not evidence).

Question types (``Question.kind``) and how many turns answer them:

- ``single``: one turn, asked in other words (paraphrase: few shared words).
- ``detail``: a name, date, time or number among turns that look alike (the user books ten
  flights and asks about four, sees six doctors and asks about three); half of the flights
  are told in two turns ("Finally booked my flight to Oslo!" ... "March 4, departs 07:20")
  that both count.
- ``coreference``: two user turns of one session, the second says "she"/"he"/"it" instead of
  the name (sometimes with an assistant turn between them).
- ``multi-hop``: two turns in different sessions (a relation names a person, a later turn says
  what the person did, by name only).
- ``aggregate``: three turns in three sessions, each told differently (every hike, every gig).
- ``update``: one turn, the latest of three that changed the same fact, each told differently.

Each user gets 6 questions of each type except ``detail`` (10). Conversations are split by user:
even users are ``dev`` (for choosing the ranking), odd users ``test`` (for reporting). Same seed,
same data on every machine: only :mod:`random` is used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from data.conversation_text import (
    AGGREGATE_POOLS,
    AGGREGATES,
    ALLERGENS,
    BOOKS,
    CARS,
    CHATTER_SLOTS,
    CITIES,
    COUNTRIES,
    DISHES,
    HOBBIES,
    INTRODUCTIONS,
    JOBS,
    LANGUAGES,
    MONTHS,
    MOODS,
    NAMES_F,
    NAMES_M,
    OPENERS,
    PARTS,
    PETNAMES,
    PETS,
    RELATIONS,
    RELATIONS_F,
    RELATIONS_M,
    REPLIES,
    SINGLE,
    SMALL_TALK,
    SURNAMES,
    THINGS,
    UPDATES,
    WEEKDAYS,
)

KINDS = ("single", "detail", "coreference", "multi-hop", "aggregate", "update")
PER_KIND = 6


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


class _Builder:
    def __init__(self, rng: random.Random, sessions: int) -> None:
        self.rng = rng
        self.sessions: list[list[tuple[str, str]]] = [[] for _ in range(sessions)]
        self.marks: dict[int, tuple[int, int]] = {}  # turn id -> (session, position)
        self.count = 0
        self.chatted: set[str] = set()  # small talk said so far: never said twice

    def say(self, session: int, text: str, speaker: str = "user") -> int:
        """Append a turn to a session; its id."""
        self.sessions[session].append((speaker, text))
        self.count += 1
        self.marks[self.count] = (session, len(self.sessions[session]) - 1)
        return self.count

    def small_talk(self) -> str:
        """A line of small talk this user has not said before (people rarely repeat a sentence)."""
        for _ in range(200):
            text = self._small_talk()
            if text not in self.chatted:
                self.chatted.add(text)
                return text
        raise RuntimeError("small talk templates exhausted: add templates or slot values")

    def _small_talk(self) -> str:
        rng = self.rng
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
        return rng.choice(SMALL_TALK).format(**slots)

    def chatter(self, session: int, count: int) -> None:
        for _ in range(count):
            text = self.small_talk()
            self.say(session, text)
            self.reply(session, _echo(text, self.rng))

    def reply(self, session: int, echo: str) -> None:
        template = self.rng.choice(REPLIES)
        self.say(session, template.format(mood=self.rng.choice(MOODS), echo=echo), "assistant")

    def wrap(self, text: str) -> str:
        """A fact as people tell it: often after an opener or beside another topic."""
        roll = self.rng.random()
        if roll < 0.25:
            return f"{self.rng.choice(OPENERS)} {text}"
        if roll < 0.45:
            return f"{text} {self.small_talk()}"
        return text


def _echo(text: str, rng: random.Random) -> str:
    words = [w.strip(".,!?':") for w in text.split() if len(w.strip(".,!?':")) > 3]
    start = rng.randrange(max(1, len(words) - 2))
    return " ".join(words[start : start + 3]).lower() or "that"


class _User:
    """One user's sessions and questions."""

    def __init__(self, index: int, seed: int, sessions: int) -> None:
        self.rng = random.Random(seed * 1000 + index)
        self.sessions = sessions
        self.b = _Builder(self.rng, sessions)
        self.pending: list[tuple[str, list[int], str]] = []  # question, turn ids, kind
        self.female = self.rng.sample(NAMES_F, len(NAMES_F))
        self.male = self.rng.sample(NAMES_M, len(NAMES_M))

    def person(self, female: bool) -> str:
        """A name nobody else in this user's facts has."""
        return (self.female if female else self.male).pop()

    def s(self) -> int:
        return self.rng.randrange(self.sessions)

    def fact(self, session: int, text: str, echo: bool = True, wrap: bool = True) -> int:
        self.b.chatter(session, self.rng.randint(0, 2))
        found = self.b.say(session, self.b.wrap(text) if wrap else text)
        if echo:
            self.b.reply(session, _echo(text, self.rng))
        return found

    def ask(self, kind: str, phrasings: tuple[str, ...] | list[str], turns: list[int]) -> None:
        self.pending.append((self.rng.choice(phrasings), turns, kind))

    def single(self) -> None:
        rng = self.rng
        for template, questions, distractors in rng.sample(SINGLE, PER_KIND):
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
            self.ask("single", questions, [self.fact(self.s(), template.format(**slots))])
            for distractor in distractors:
                self.fact(self.s(), distractor.format(**slots))

    def booking(self, city: str) -> list[int]:
        """The user's flight to ``city``: one turn, or two where the second has no city."""
        rng, say = self.rng, self.b.say
        when = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"
        hour = f"{rng.randint(6, 21):02d}:{rng.choice(['05', '20', '35', '50'])}"
        code = f"{rng.choice(['LX', 'TP', 'FR', 'SK'])}{rng.randint(100, 9999)}"
        if rng.random() < 0.5:
            text = f"Booked it: flight {code} to {city} on {when}, departs {hour}."
            return [self.fact(self.s(), text)]
        session = self.s()
        self.b.chatter(session, rng.randint(0, 2))
        first = say(session, self.b.wrap(f"Finally booked my flight to {city}!"))
        say(session, "Exciting! When do you leave?", "assistant")
        return [first, say(session, f"{when}, departs {hour}, flight {code}.")]

    def detail(self) -> None:
        rng = self.rng
        cities = rng.sample(CITIES, 10)
        for city in cities[4:]:  # people who travel book many flights: the others look alike
            self.booking(city)
        for city in cities[:4]:
            turns = self.booking(city)
            phrasings = (
                f"What time does my plane to {city} take off?",
                f"When does my flight to {city} depart?",
            )
            self.ask("detail", phrasings, turns)
            other = f"{rng.randint(6, 21):02d}:{rng.choice(['10', '25', '40', '55'])}"
            self.fact(self.s(), f"Last time I flew to {city} we left at {other} and landed late.")
            friend = rng.choice(NAMES_F + NAMES_M)
            self.fact(
                self.s(),
                f"{friend} takes the early flight to {city} on "
                f"{rng.choice(MONTHS)} {rng.randint(1, 28)}.",
            )
        doctors = rng.sample(SURNAMES, 6)
        for surname, what in zip(doctors[3:], ("my back", "my eyes", "a check-up")):
            when = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"
            self.fact(self.s(), f"Appointment with Dr {surname} on {when} about {what}.")
        for surname in doctors[:3]:
            when = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"
            turn = self.fact(self.s(), f"Appointment with Dr {surname} on {when} about my knee.")
            phrasings = (
                f"When am I supposed to see Dr {surname}?",
                f"What date is my appointment with Dr {surname}?",
            )
            self.ask("detail", phrasings, [turn])
            self.fact(self.s(), f"Dr {surname} was running late, the waiting room was packed.")
            other = rng.choice(NAMES_F + NAMES_M)
            self.fact(
                self.s(),
                f"{other} sees Dr {surname} on {rng.choice(MONTHS)} {rng.randint(1, 28)} too.",
            )
        for female in (True, False, rng.random() < 0.5):
            friend = self.person(female)
            when = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"
            turn = self.fact(self.s(), f"Note to self: {friend}'s birthday is {when}.")
            self.fact(self.s(), f"{friend} and I grabbed lunch, {friend} says hi.")
            self.fact(
                self.s(),
                f"{friend}'s party is on {rng.choice(MONTHS)} {rng.randint(1, 28)}"
                ", I said I'd bring snacks.",
            )
            phrasings = (f"On what date was {friend} born?", f"When is {friend}'s birthday?")
            self.ask("detail", phrasings, [turn])

    def coreference(self) -> None:
        rng, say = self.rng, self.b.say
        things = rng.sample(THINGS, PER_KIND)
        for number in range(PER_KIND):
            session = self.s()
            self.b.chatter(session, rng.randint(1, 2))
            variant = number % 3
            if variant == 2:  # an object, then "it"
                thing = things[number]
                price = rng.randint(80, 1900)
                first = say(session, f"I finally bought the {thing} I'd been eyeing for months.")
                second = say(session, f"It cost {price} euros, but honestly worth every cent.")
                question = (
                    f"How much did I pay for the {thing}?",
                    f"What was the price of my {thing}?",
                )
            else:
                female = number % 2 == 0
                name = self.person(female)
                pronoun = "She" if female else "He"
                if variant == 0:
                    country = rng.choice(COUNTRIES)
                    highlight = rng.choice(
                        [
                            "the night markets",
                            "a glacier walk",
                            "surfing lessons",
                            "the street food",
                        ]
                    )
                    first = say(session, f"{name} just got back from {country} yesterday.")
                    second = say(
                        session, f"{pronoun} said the best part was {highlight}, honestly."
                    )
                    question = (
                        f"What did {name} enjoy most about visiting {country}?",
                        f"What was {name}'s favourite part of the trip to {country}?",
                    )
                else:
                    km = rng.randint(15, 70)
                    first = say(session, f"My colleague {name} is training for a marathon.")
                    say(session, "Wow, how is the training going?", "assistant")
                    second = say(session, f"{pronoun} runs {km} km a week now, unbelievable.")
                    question = (
                        f"How far does {name} run every week?",
                        f"How many kilometres a week is {name} running?",
                    )
            self.b.reply(session, _echo(self.b.sessions[session][-1][1], rng))
            self.ask("coreference", question, [first, second])

    def multi_hop(self) -> None:
        rng = self.rng
        for relation, female in rng.sample(RELATIONS, PER_KIND):
            name = self.person(female)
            city, job = rng.choice(CITIES), rng.choice(JOBS)
            early = rng.randrange(self.sessions // 2)
            late = rng.randrange(self.sessions // 2, self.sessions)
            intro = rng.choice(INTRODUCTIONS).format(relation=relation, name=name)
            first = self.fact(early, intro)
            second = self.fact(
                late,
                f"{name} got a job as a {job} and is moving to {city} in {rng.choice(MONTHS)}.",
            )
            self.fact(self.s(), f"My {relation} always gives the best advice.")
            phrasings = (
                f"Where is my {relation} relocating for work?",
                f"Which city is my {relation} moving to?",
                f"What job did my {relation} just get?",
            )
            self.ask("multi-hop", phrasings, [first, second])

    def decoys(self) -> None:
        """The same kinds of facts about people nobody asks about."""
        rng = self.rng
        for _ in range(8):
            other, place = rng.choice(NAMES_F + NAMES_M), rng.choice(COUNTRIES + CITIES)
            when = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"
            decoys = [
                f"Note to self: {other}'s birthday is {when}.",
                f"{other} just got back from {place}, {rng.choice(['loved', 'hated'])} it.",
                f"{other} got a job as a {rng.choice(JOBS)} and is moving to {place}.",
                f"{other} has an appointment with Dr {rng.choice(SURNAMES)} on {when}.",
                f"{other} booked flight {rng.choice(['LX', 'FR'])}{rng.randint(100, 999)} to "
                f"{place}.",
            ]
            for text in rng.sample(decoys, 3):
                self.fact(self.s(), text, echo=rng.random() < 0.5)

    def aggregate(self) -> None:
        rng = self.rng
        for kind in rng.sample(sorted(AGGREGATES), PER_KIND):
            tellings, aside, questions = AGGREGATES[kind]
            chosen = rng.sample(AGGREGATE_POOLS[kind], 4)
            sessions = rng.sample(range(self.sessions), 3)
            turns = [
                self.fact(session, telling.format(x=x))
                for session, telling, x in zip(sessions, rng.sample(tellings, 3), chosen)
            ]
            self.fact(self.s(), aside.format(y=chosen[3]))
            self.ask("aggregate", questions, turns)

    def update(self) -> None:
        rng = self.rng
        for kind in rng.sample(sorted(UPDATES), PER_KIND):
            tellings, questions = UPDATES[kind]
            values: list[str] = {
                "home": lambda: rng.sample(CITIES, 3),
                "job": lambda: rng.sample(JOBS, 3),
                "car": lambda: rng.sample(CARS, 3),
                "gym": lambda: rng.sample(WEEKDAYS, 3),
                "manager": lambda: [self.person(rng.random() < 0.5) for _ in range(3)],
                "rent": lambda: [str(rng.randrange(700, 2400, 10)) for _ in range(3)],
            }[kind]()
            sessions = sorted(rng.sample(range(self.sessions), 3))
            turns = [
                self.fact(session, telling.format(x=x))
                for session, telling, x in zip(sessions, tellings, values)
            ]
            self.ask("update", questions, [turns[-1]])

    def conversation(self, user: str, split: str) -> Conversation:
        rng, b = self.rng, self.b
        for session in range(self.sessions):
            b.chatter(session, rng.randint(4, 8))
        conversation = Conversation(user=user, split=split)
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
        for question, ids, kind in self.pending:
            evidence = tuple(keys[b.marks[i]] for i in ids)
            conversation.questions.append(Question(question, evidence, kind))
        return conversation


def _conversation(index: int, seed: int, sessions: int = 14) -> Conversation:
    user = _User(index, seed, sessions)
    user.single()
    user.detail()
    user.coreference()
    user.multi_hop()
    user.decoys()
    user.aggregate()
    user.update()
    split = "dev" if index % 2 == 0 else "test"
    return user.conversation(f"user{index:02d}", split)


def build(seed: int = 0, users: int = 24) -> list[Conversation]:
    """``users`` conversations (half ``dev``, half ``test``), the same for the same seed."""
    return [_conversation(index, seed) for index in range(users)]
