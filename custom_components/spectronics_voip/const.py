"""Constants of the Spectronics VoIP integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "spectronics_voip"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "Spectronics"
PROVIDER_URL: Final = "http://voip.spectronics.co.uk/"

CONF_EXTENSION: Final = "extension"
CONF_CIDNAME: Final = "cidname"
CONF_DESTINATION: Final = "destination"
CONF_REVERSE: Final = "reverse"
CONF_SOURCE: Final = "source"
CONF_WAIT: Final = "wait"
CONF_WAIT_TIMEOUT: Final = "wait_timeout"
# The number the phone rung first is connected to, once it answers (contacts whose
# own phone rings first, and call_until_answered's destinations).
CONF_CONNECT_TO: Final = "connect_to"

# Which phone a contact's call rings first (the provider rings two legs in turn).
CONF_RING_FIRST: Final = "ring_first"
RING_MY_EXTENSION: Final = (
    "my_extension"  # quick dial: your extension, then the contact
)
RING_CONTACT_NUMBER: Final = "contact_number"  # the contact's number, sent as source
RING_CONTACT_EXTENSION: Final = "contact_extension"  # the contact's own extension
RING_FIRST_OPTIONS: Final = (
    RING_MY_EXTENSION,
    RING_CONTACT_NUMBER,
    RING_CONTACT_EXTENSION,
)
# The kinds whose answer is the contact's own (escalations, notify entities).
CONTACT_RINGS_FIRST: Final = (RING_CONTACT_NUMBER, RING_CONTACT_EXTENSION)

MIN_WAIT_TIMEOUT: Final = 10
MAX_WAIT_TIMEOUT: Final = 600

# Safety rails (options of the account).
CONF_COOLDOWN: Final = "cooldown"
CONF_MAX_CONCURRENT_CALLS: Final = "max_concurrent_calls"
CONF_ALLOWED_NUMBERS: Final = "allowed_numbers"
CONF_ADMIN_ONLY: Final = "admin_only"
DEFAULT_COOLDOWN: Final = 30
MAX_COOLDOWN: Final = 3600
DEFAULT_MAX_CONCURRENT_CALLS: Final = 4
MAX_CONCURRENT_CALLS: Final = 100
DEFAULT_ADMIN_ONLY: Final = True
# The call budget: calls that reached the provider in the last hour, and since local
# midnight (0 turns a budget off). 60 an hour fits the biggest escalation a household
# sets up (10 rounds over 5 contacts: 50 calls) and stops a runaway automation within
# a minute or so; 200 a day is that escalation three times over, and everyday calls.
CONF_MAX_CALLS_PER_HOUR: Final = "max_calls_per_hour"
CONF_MAX_CALLS_PER_DAY: Final = "max_calls_per_day"
DEFAULT_MAX_CALLS_PER_HOUR: Final = 60
DEFAULT_MAX_CALLS_PER_DAY: Final = 200
MAX_CALL_BUDGET: Final = 10000
# Pauses before the retries of a call that could not connect at all.
RETRY_DELAYS: Final = (1.0, 2.0)

# call_until_answered.
CONF_CONTACTS: Final = "contacts"
CONF_DESTINATIONS: Final = "destinations"
CONF_ROUNDS: Final = "rounds"
CONF_DELAY: Final = "delay"
MAX_ROUNDS: Final = 10
MAX_DELAY: Final = 600

SUBENTRY_CONTACT: Final = "contact"

SERVICE_PLACE_CALL: Final = "place_call"
SERVICE_CALL_UNTIL_ANSWERED: Final = "call_until_answered"
SERVICE_STOP_CALLS: Final = "stop_calls"
EVENT_CALL_RESULT: Final = f"{DOMAIN}_call_result"
# The unique id of an account's "Last call" entity ends with this.
LAST_CALL_KEY: Final = "last_call"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"

# "Last call" event types.
EVENT_REQUESTED: Final = "requested"
EVENT_ANSWERED: Final = "answered"
EVENT_FAILED: Final = "failed"

# Result event `error` values besides the client's categories.
ERROR_CANCELLED: Final = "cancelled"
ERROR_BUDGET: Final = "budget"
ERROR_STOPPED: Final = "stopped"
ERROR_UNKNOWN: Final = "unknown"
CANCELLED_MESSAGE: Final = "cancelled before the provider replied"
STOPPED_MESSAGE: Final = "stopped before it was sent"
