// What other components may import from the audit log.
export { recordAudit, configureAudit, type AuditActorRef, type AuditTarget, type AuditDetails, type AuditContext } from './audit.service';
export { auditRouter } from './audit.routes';
