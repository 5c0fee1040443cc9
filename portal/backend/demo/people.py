"""Fictional people for the demo practice. Any resemblance to real persons is coincidental."""

PRACTICE = {
    "name": "Riverside Family Health",
    "slug": "riverside-demo",
    "time_zone": "America/New_York",
    "phone": "(555) 010-2000",
    # A river blue over the portal's teal, so the demo shows branding (white on it: 7.3 to 1).
    "brand_colour": "#1e5a8a",
}

LOCATIONS = [
    ("Riverside Main Clinic", "120 Harbor Street, Riverside, NY 10990", "(555) 010-2000"),
    ("Northgate Office", "48 Northgate Avenue, Riverside, NY 10991", "(555) 010-2100"),
]

# name, credentials, specialty, email, location index, care teams
PROVIDERS = [
    ("Dr. Amelia Chen", "MD", "Family Medicine", "dr.chen@riverside.example", 0, ["family"]),
    (
        "Dr. Marcus Okafor",
        "MD",
        "Internal Medicine",
        "dr.okafor@riverside.example",
        0,
        ["family", "heart"],
    ),
    ("Dr. Sofia Ramirez", "DO", "Pediatrics", "dr.ramirez@riverside.example", 1, ["children"]),
    ("Dr. James Whitfield", "MD", "Cardiology", "dr.whitfield@riverside.example", 0, ["heart"]),
    ("Priya Nair", "NP", "Women's Health", "priya.nair@riverside.example", 1, ["family"]),
]

CARE_TEAMS = {
    "family": "Family Medicine Team",
    "children": "Pediatrics Team",
    "heart": "Heart and Vascular Team",
}

ADMIN = ("Jordan Blake", "admin@riverside.example")

# first, last, sex, year of birth; the first patient is the documented demo patient
PATIENTS = [
    ("Maria", "Garcia", "female", 1968),
    ("James", "Wilson", "male", 1952),
    ("Aisha", "Mohammed", "female", 1989),
    ("Robert", "Johnson", "male", 1945),
    ("Linh", "Nguyen", "female", 1976),
    ("David", "Kim", "male", 1983),
    ("Emily", "Thompson", "female", 1995),
    ("Michael", "Brown", "male", 1961),
    ("Fatima", "Hassan", "female", 1972),
    ("Daniel", "Martinez", "male", 2012),
    ("Olivia", "Davis", "female", 2016),
    ("William", "Anderson", "male", 1949),
    ("Sophia", "Lee", "female", 1991),
    ("Ethan", "Clark", "male", 2009),
    ("Grace", "Okonkwo", "female", 1958),
    ("Benjamin", "Rossi", "male", 1970),
    ("Hannah", "Schmidt", "female", 1987),
    ("Samuel", "Cohen", "male", 1955),
    ("Isabella", "Lopez", "female", 2001),
    ("Lucas", "Silva", "male", 1993),
    ("Chloe", "Dubois", "female", 1979),
    ("Henry", "Walker", "male", 1940),
    ("Zara", "Ali", "female", 2014),
    ("Noah", "Patel", "male", 1998),
    ("Ava", "Murphy", "female", 1966),
    ("Jacob", "Yamamoto", "male", 1974),
    ("Mia", "Rodriguez", "female", 2019),
    ("Elijah", "Jackson", "male", 1950),
    ("Amara", "Mensah", "female", 1985),
    ("Owen", "Fitzgerald", "male", 1963),
    ("Leila", "Farahani", "female", 1990),
    ("Thomas", "Novak", "male", 1947),
    ("Ruth", "Goldberg", "female", 1939),
    ("Mateo", "Hernandez", "male", 2006),
    ("Priyanka", "Sharma", "female", 1981),
    ("Caleb", "Turner", "male", 1978),
    ("Naomi", "Brooks", "female", 1959),
    ("Kenji", "Tanaka", "male", 1967),
    ("Eleanor", "Price", "female", 1944),
    ("Adrian", "Kowalski", "male", 1986),
]

STREETS = [
    "Maple Avenue",
    "Cedar Lane",
    "River Road",
    "Orchard Street",
    "Hillside Drive",
    "Willow Court",
    "Lakeview Terrace",
    "Elm Street",
    "Summit Avenue",
    "Birch Way",
]

PAYERS = [
    "Aetna",
    "Blue Cross Blue Shield",
    "UnitedHealthcare",
    "Cigna",
    "Medicare",
    "Medicaid",
    "Humana",
]
