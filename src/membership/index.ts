// The membership core's public face: import from here.
export { BroadcastQueue, retransmitLimit } from './broadcast-queue.ts';
export { MEMBERSHIP_PRESETS, resolveMembershipConfig, validateMembershipConfig, type MembershipConfig, type MembershipPreset } from './config.ts';
export { newMembershipCounters, type MembershipCounters } from './counters.ts';
export {
  cleanMember,
  compareFreshness,
  compareVersion,
  isFresherUpdate,
  maxGeneration,
  memberProblem,
  parseVersion,
  sameVersion,
  statusOfRank,
  versionOf,
  withStatus,
  type MemberVersion,
} from './freshness.ts';
export { STATUS_RANK, type MemberRecord, type MemberStatus } from './member.ts';
export { Membership, type MembershipInit } from './membership.ts';
export { probeMessageProblem, type MembershipOutput, type ProbeMessage } from './messages.ts';
export { nextRoundRobin, type RoundRobin } from './round-robin.ts';
export { laterLife, selfVerdict, type SelfVerdict, type SelfVerdictLimits } from './self-news.ts';
export { AWARENESS_DELTA, nextAwareness, scaleByAwareness } from './awareness.ts';
export { idListsOf, membershipProblems, type MembershipState } from './invariants.ts';
export { expectedConfirmations, remainingSuspicionTime, Suspicion, suspicionBounds, type SuspicionBounds } from './suspicion.ts';
