// Quorum SASL (DIGEST-MD5) for test ensembles: the zoo.cfg keys every peer gets, and a JAAS file
// whose QuorumServer knows the user "peer" with the password "peersecret" and whose QuorumLearner
// logs in as "peer" with `learnerPassword` (a wrong one is refused by the other peers).
export const SASL_LINES = [
  'quorum.auth.enableSasl=true',
  'quorum.auth.learnerRequireSasl=true',
  'quorum.auth.serverRequireSasl=true',
  'quorum.auth.learner.saslLoginContext=QuorumLearner',
  'quorum.auth.server.saslLoginContext=QuorumServer',
];

export const jaas = (learnerPassword: string): string => `QuorumServer {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_peer="peersecret";
};
QuorumLearner {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="peer"
  password="${learnerPassword}";
};
`;
