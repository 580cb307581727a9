"""The idempotency ledger on moto DynamoDB: batched claims write the same Powertools records as single ones."""
from chalice_app.interruptions.ledger import Claim, NoticeLedger
from chalice_app.interruptions.parsing import parse_event
from tests.interruptions import factories as f
from tests.interruptions.conftest import TABLE


def notices(count, start=0):
    return [parse_event(f.spot_warning(n, event_id=f"ledger-{n}")) for n in range(start, start + count)]


def test_batch_claims_see_single_records_and_single_claims_see_batch_records(dynamodb):
    ledger = NoticeLedger(TABLE, client=dynamodb, remaining_ms=lambda: 60_000)
    first, second, third, fourth = notices(4)
    ledger.claim(first)  # in progress elsewhere
    assert ledger.claim(second) is Claim.NEW
    ledger.done(second)  # alerted before
    assert ledger.claim_all([first, second, third]) == [Claim.BUSY, Claim.DONE, Claim.NEW]
    assert ledger.claim(third) is Claim.BUSY
    ledger.done_all([third])
    assert ledger.claim(third) is Claim.DONE
    ledger.release_all([fourth], RuntimeError("never claimed"))  # deleting nothing is fine


def test_more_than_one_transaction_and_mixed_outcomes(dynamodb):
    ledger = NoticeLedger(TABLE, client=dynamodb, remaining_ms=lambda: 60_000)
    batch = notices(230)
    ledger.done_all(batch[100:105])
    claims = ledger.claim_all(batch)
    assert claims.count(Claim.DONE) == 5 and claims.count(Claim.NEW) == 225
    assert set(ledger.claim_all(batch)) == {Claim.BUSY, Claim.DONE}


def test_a_released_claim_can_be_claimed_again(dynamodb):
    ledger = NoticeLedger(TABLE, client=dynamodb, remaining_ms=lambda: 60_000)
    batch = notices(3)
    ledger.claim_all(batch)
    ledger.release_all(batch, RuntimeError("Slack refused"))
    assert ledger.claim_all(batch) == [Claim.NEW] * 3


def test_an_in_progress_claim_of_a_timed_out_invocation_is_taken_over(dynamodb):
    crashed = NoticeLedger(TABLE, client=dynamodb, remaining_ms=lambda: -1_000)  # its invocation already ended
    batch = notices(2)
    crashed.claim_all(batch)
    assert NoticeLedger(TABLE, client=dynamodb).claim_all(batch) == [Claim.NEW, Claim.NEW]


def test_records_are_powertools_records_with_ttl(dynamodb):
    ledger = NoticeLedger(TABLE, client=dynamodb, remaining_ms=lambda: 60_000)
    ledger.claim_all(notices(1))
    (item,) = dynamodb.scan(TableName=TABLE)["Items"]
    assert item["id"]["S"].startswith("interruptions.notice#")
    assert item["status"]["S"] == "INPROGRESS" and int(item["expiration"]["N"]) > 0
    assert "in_progress_expiration" in item
