// What other components may import from feedback: the service, its types, and the router.
export { createFeedbackService, bodyHashOf, type FeedbackService, type FeedbackServiceDeps, type SubmitContext, type SubmitResult } from './feedback.service';
export { createRateGuards, type RateGuards } from './abuse';
export { FeedbackModel, type FeedbackDocument } from './feedback.model';
export { FeedbackBodySchema, type FeedbackInput } from './feedback.schema';
export * from './feedback.types';
export { feedbackRouters } from './feedback.routes';
export { applyVoteToRollups, reconcilePendingRollups, recomputeRollups, rebuildRollups, rollupsFor, mergeCounts, emptyCounts, type RollupCounts, type RollupGroup, type RollupGroupBy, type RollupQuery } from './rollup.service';
export { whenVotesWritten, type VoteSink } from './vote-writer';
export { startVoteThread, type VoteThread } from './vote-thread';
export { seedDemoFeedback, type DemoFeedbackResult } from './demo-feedback';
