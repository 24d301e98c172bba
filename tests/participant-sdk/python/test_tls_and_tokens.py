"""The Python library over mutual TLS on every hop, with a real tccd that
checks callers (--auth_file): a Python initiator (grpcio with
ssl_channel_credentials, its certificate's SPIFFE id mapped to the
initiator role) pays through a Python participant that requires tccd's
client certificate, and tccd back-queries the Python status endpoint over
mutual TLS. A bearer token works beside an unlisted certificate; without
it, or with a certificate tccd does not know, calls are refused
UNAUTHENTICATED and nothing is stored. Certificates come from a throwaway
CA made with openssl.
"""

import hashlib
import json
import unittest

import grpc

import tcc_participant as tcc
from support import PointsService, TempDir, Tccd, TestPki, open_test_db, wait_for
from tcc_participant import coordinator_pb2 as pb

_OPS_TOKEN = "py-ops-token-4b1f9c"


class TlsAndTokensTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = TempDir()
        self.addCleanup(self.dir.remove)
        pki = TestPki(self.dir.path)
        tccd_cert = pki.issue("tccd")
        self.shop = pki.issue("shop-instance-3", ",URI:spiffe://tcc.test/shop")
        self.stranger = pki.issue("stranger")
        points_cert = pki.issue("points")
        with open(self.dir.file("auth.json"), "w") as f:
            json.dump({"callers": [
                {"name": "shop", "roles": ["initiator", "viewer"],
                 "identities": ["uri:spiffe://tcc.test/shop"]},
                {"name": "ops-bot", "roles": ["initiator"],
                 "token_sha256": [hashlib.sha256(_OPS_TOKEN.encode()).hexdigest()]}]}, f)
        self.tccd = Tccd(self.dir.path, [
            f"--tls_cert={tccd_cert.cert_file}", f"--tls_key={tccd_cert.key_file}",
            f"--tls_client_ca={pki.ca_file}", f"--participant_ca={pki.ca_file}",
            f"--participant_cert={tccd_cert.cert_file}", f"--participant_key={tccd_cert.key_file}",
            f"--auth_file={self.dir.file('auth.json')}"])
        self.addCleanup(self.tccd.stop)
        # tccd's certificate names 127.0.0.1; clients dial it by that address.
        self.client = tcc.InitiatorClient(self.tccd.address, tls=self.shop)
        self.addCleanup(self.client.close)

        self.points_db = open_test_db(self.dir.file("points.db"))
        self.addCleanup(self.points_db.close)
        self.points = PointsService(self.points_db)
        self.points.setup("alice", 100)
        server_tls = tcc.TlsFiles(ca_file=pki.ca_file, cert_file=points_cert.cert_file,
                                  key_file=points_cert.key_file, require_client_cert=True)
        self.participant = tcc.ParticipantServer(self.points_db, tls=server_tls)
        self.points.register(self.participant)
        self.participant.start("127.0.0.1:0")
        self.addCleanup(self.participant.shutdown, 0)
        self.target = f"127.0.0.1:{self.participant.port}"

        self.shop_db = open_test_db(self.dir.file("shop.db"))
        self.addCleanup(self.shop_db.close)
        self.shop_db.run_in_transaction(
            lambda tx: tx.exec("CREATE TABLE orders (id TEXT PRIMARY KEY, gid TEXT)"))
        self.status = tcc.StatusEndpoint(self.shop_db, tls=server_tls)
        self.status.start("127.0.0.1:0")
        self.addCleanup(self.status.shutdown, 0)

    def freeze(self, amount: int):
        return tcc.branch(self.target, "points.freeze", f"alice:{amount}", branch_id="points")

    def test_a_payment_commits_over_mutual_tls_on_every_hop(self) -> None:
        endpoint = f"127.0.0.1:{self.status.port}"
        with self.client.begin_guarded("py-tls-1", timeout_s=30, status_endpoint=endpoint) as gt:
            tried = gt.try_branches([self.freeze(30)])
            self.assertTrue(tcc.all_tries_succeeded(tried), tried)
            gt.commit_with_local_transaction(
                self.shop_db, lambda tx: tx.exec("INSERT INTO orders VALUES ('o-1', 'py-tls-1')"))
        self.assertTrue(wait_for(
            lambda: self.client.get("py-tls-1").state == pb.TRANSACTION_STATE_COMMITTED))
        self.assertEqual((self.points.balance(), self.points.frozen()), (70, 0))

    def test_the_back_query_reaches_the_status_endpoint_over_mutual_tls(self) -> None:
        endpoint = f"127.0.0.1:{self.status.port}"
        self.client.begin("py-tls-2", timeout_s=1.0, status_endpoint=endpoint)
        self.assertTrue(tcc.all_tries_succeeded(
            self.client.try_branches("py-tls-2", [self.freeze(40)])))
        # Committed locally, Commit never sent: only the back-query can tell.
        tcc.commit_locally(self.shop_db, "py-tls-2", lambda tx: None)
        self.assertTrue(wait_for(
            lambda: self.client.get("py-tls-2").state == pb.TRANSACTION_STATE_COMMITTED))
        self.assertEqual(self.points.balance(), 60)

    def test_a_token_identifies_a_caller_whose_certificate_is_not_listed(self) -> None:
        ops = tcc.InitiatorClient(self.tccd.address, tls=self.stranger, token=_OPS_TOKEN)
        self.addCleanup(ops.close)
        self.assertTrue(ops.begin("py-by-token").created)
        self.assertEqual(self.client.get("py-by-token").state, pb.TRANSACTION_STATE_TRYING)

    def test_unknown_callers_are_refused_and_nothing_is_stored(self) -> None:
        for client in (tcc.InitiatorClient(self.tccd.address, tls=self.stranger),
                       tcc.InitiatorClient(self.tccd.address, tls=self.stranger,
                                           token="guessed-token")):
            self.addCleanup(client.close)
            with self.assertRaises(tcc.TccError) as refused:
                client.begin("py-refused")
            self.assertEqual(refused.exception.code, grpc.StatusCode.UNAUTHENTICATED)
            self.assertIn("Coordinator.Begin needs the initiator role", str(refused.exception))
        with self.assertRaises(tcc.TccError) as missing:
            self.client.get("py-refused")
        self.assertEqual(missing.exception.code, grpc.StatusCode.NOT_FOUND)


if __name__ == "__main__":
    unittest.main()
