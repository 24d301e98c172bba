// The long --help texts of tccctl, kept apart from the parsing code so that
// both stay readable. Written for an operator who has never seen the code:
// what each command shows, what each action does, what to run next.
#pragma once

namespace tcc::tccctl {

inline constexpr char kAppDescription[] =
    "tccctl: the operator's tool for tccd, the TCC transaction coordinator.\n"
    "Find transactions, see why they are stuck, retry them now, or resolve them by hand.";

inline constexpr char kAppFooter[] = R"(Finding and resolving a stuck transaction:
  tccctl list --stuck          which transactions keep failing, and on which participant
  tccctl show GID              its branches (attempts, next retry, last error) and timeline
  ...fix or restart the failing participant, then:
  tccctl retry GID             retry now instead of waiting for the backoff
  tccctl retry --target H:P    ...every transaction failing on that participant
  tccctl resolve GID --mark-rolled-back --reason "..."   last resort: see 'resolve --help'

Global options go before or after the command: tccctl --addr 10.0.0.5:7420 list --stuck.
Exit codes: 0 ok; 1 the call failed (coordinator unreachable, unknown gid, action refused);
2 usage error (nothing was sent). Errors are one line on stderr.
Environment: TCC_ADDR (default --addr), TCC_TLS_CA, TCC_TLS_CERT, TCC_TLS_KEY (default
--tls-ca, --tls-cert, --tls-key), TCC_TOKEN, TCC_TOKEN_FILE (default --token, --token-file),
USER (default --operator), NO_COLOR (no colour).
Run 'tccctl COMMAND --help' for the options of a command.)";

inline constexpr char kListDescription[] =
    "List transactions (newest first), filtered by state, stuck flag, age, gid prefix or "
    "participant";

inline constexpr char kStuckHelp[] =
    "Only transactions tccd flagged stuck: a branch failed --stuck_after_attempts times or the "
    "transaction is older than --stuck_after_s (tccd flags). Stuck ones are still retried";

inline constexpr char kOlderThanHelp[] =
    "Only transactions created at least this long ago: 500ms, 90s, 5m, 2h, 1d, 1h30m";

inline constexpr char kListFooter[] = R"(Columns:
  AGE         time since Begin
  STUCK       "stuck" once tccd flagged it: it keeps retrying, but a person should look
  BRANCHES    (STEPS when every row is a saga, BRANCHES/STEPS when mixed)
              branches done with the current phase / all branches (Try succeeded while
              TRYING, Confirmed while committing, Cancelled while rolling back; saga
              steps: action done while running, nothing left to undo (compensated or
              refused; never started, once rolled back) while compensating)
  LAST ERROR  target and last error of the first branch that is still failing
              (empty once the transaction is final)
A page holds --limit transactions; when there are more, the next page token is printed.

Examples:
  tccctl list --stuck
  tccctl list --state committing,rolling-back --older-than 5m --oldest-first
  tccctl list --target 10.0.0.7:9000 --all --json)";

inline constexpr char kShowDescription[] =
    "Show one transaction: state and decision, branches (a saga's steps, with their "
    "dependencies) with attempts, next retry and last error, and the timeline";

inline constexpr char kShowFooter[] =
    R"(The header says why the transaction was decided as it was, whether (and since
when) it is stuck, and its deadline. Per branch (a saga's are called steps):
  DEPENDS ON  saga steps only: the steps it waits for ("-": none)
  ATTEMPTS    Confirm / Cancel calls made in the current phase, failed ones included
              (saga step: its action's, or once compensating, its compensation's)
  NEXT RETRY  when tccd calls the participant again ("due now": at once)
  LAST ERROR  what the participant (or the network) answered last
A transaction that timed out while TRYING with a status endpoint has a Back-query
section once tccd asked the initiator: attempts (and how many failed in a row), the
last attempt, the last error (naming the endpoint) and the next retry.
The timeline lists, oldest first, what happened and who did it ("tccd" or the operator).
For a failing transaction it ends with the commands to run next.

Example:
  tccctl show pay-20240501-0042)";

inline constexpr char kRetryDescription[] =
    "Retry now: clear the backoff of one transaction, or of every transaction failing on one "
    "participant or status endpoint";

inline constexpr char kRetryFooter[] =
    R"(Give exactly one of GID and --target. tccd retries failing Confirm / Cancel calls and
back-queries by itself with a growing backoff (up to --retry_max_ms); after fixing a
participant (or an initiator's status endpoint), retry makes the next attempt happen at
once instead of waiting, over a fresh connection. It changes no decision: only
unfinished transactions are rescheduled, and the command prints how many were.

Examples:
  tccctl retry pay-20240501-0042
  tccctl retry --target 10.0.0.7:9000      # after that participant's outage)";

inline constexpr char kResolveDescription[] =
    "Force the outcome of a transaction that is not final (last resort; recorded with your "
    "name and reason)";

inline constexpr char kResolveFooter[] = R"(Exactly one action, and a --reason:
  --commit            Drive the commit side to the end: Confirm every branch. Allowed while
                      TRYING (no branch may have been refused; branches whose Try outcome is
                      unknown are taken as tried, on your word) or COMMITTING.
  --rollback          Drive the rollback side to the end: Cancel every branch. Allowed while
                      TRYING or ROLLING_BACK; refused once COMMITTING (Confirms may have run).
  --mark-committed    Record COMMITTED without calling any participant: you have made every
                      participant consistent by hand.
  --mark-rolled-back  Record ROLLED_BACK without calling any participant: you have undone
                      the reservations by hand.
Sagas (mode SAGA): --commit pushes a RUNNING saga on at once (refused while
COMPENSATING); --rollback compensates its completed steps; mark-* work as above.
A final transaction (COMMITTED or ROLLED_BACK) cannot be resolved: exit code 1.
Prefer fixing the participant and 'tccctl retry'; the mark-* actions skip the
participants, so use them only when a participant can never succeed (e.g. its data was
repaired by hand). The operator and the reason appear in 'tccctl show GID'.

Example:
  tccctl resolve pay-20240501-0042 --mark-rolled-back \
      --reason "points service lost the freeze; refunded by hand, ticket OPS-123")";

inline constexpr char kStatsDescription[] =
    "Counts per state, stuck transactions, the oldest unfinished one, the store's size and "
    "retention, failing participants and status endpoints";

inline constexpr char kStatsFooter[] =
    R"(FAILING TARGET lists the participants with unfinished branches whose last call failed,
and the initiators' status endpoints whose back-queries fail (ROLE "status endpoint";
FAILING counts the branches or back-queries), most failed attempts first: usually the
first place to look during an incident.
Then: tccctl list --stuck, or tccctl list --target HOST:PORT.)";

}  // namespace tcc::tccctl
