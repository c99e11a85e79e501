// Configuration: one zod schema over process.env, parsed once at boot; the only reader of process.env.
import { z } from 'zod';

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const secret = z.string().min(32, 'must be at least 32 characters');

const EnvSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    PUBLIC_BASE_URL: z.url().optional(),
    MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    DEMO: booleanString.optional(),
    DEMO_PASSWORD: z.string().min(8, 'must be at least 8 characters').default('demo-password'),
    APP_SECRET: secret.optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
    SESSION_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(8),
    LOGIN_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
    LOGIN_LOCKOUT_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
    FEEDBACK_REPLACE_WINDOW_MINUTES: z.coerce.number().int().min(0).max(7 * 24 * 60).default(60),
    FEEDBACK_LIMIT_PER_DEVICE_PER_HOUR: z.coerce.number().int().min(1).max(10000).default(20),
    FEEDBACK_LIMIT_PER_IP_PER_HOUR: z.coerce.number().int().min(1).max(100000).default(300),
    KIOSK_MIN_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
    MIN_SAMPLE_SIZE: z.coerce.number().int().min(1).max(100000).default(30),
    SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(20),
  })
  .superRefine((env, ctx) => {
    if (env.MONGODB_URI && !env.APP_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['APP_SECRET'], message: 'is required with MONGODB_URI' });
    }
  });

export type Config = Readonly<ReturnType<typeof toConfig>>;

/** A deliberate, public development secret: only ever used on the embedded engine in demo mode. */
const DEMO_SECRET = 'thuoc-do-demo-secret-not-for-production-use-0000';

function toConfig(env: z.infer<typeof EnvSchema>) {
  // Demo data never lands in a real MongoDB unless DEMO=true is explicit (DESIGN §4).
  const demo = env.DEMO ?? !env.MONGODB_URI;
  const publicBaseUrl = (env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  return {
    port: env.PORT,
    host: env.HOST,
    publicBaseUrl,
    database: { uri: env.MONGODB_URI ?? null, dataDir: env.DATA_DIR },
    demo: { enabled: demo, password: env.DEMO_PASSWORD },
    secret: env.APP_SECRET ?? DEMO_SECRET,
    logLevel: env.LOG_LEVEL,
    trustProxy: env.TRUST_PROXY,
    cookies: { secure: publicBaseUrl.startsWith('https://') },
    session: { ttlHours: env.SESSION_TTL_HOURS },
    login: { maxAttempts: env.LOGIN_MAX_ATTEMPTS, lockoutMinutes: env.LOGIN_LOCKOUT_MINUTES },
    feedback: {
      replaceWindowMinutes: env.FEEDBACK_REPLACE_WINDOW_MINUTES,
      limitPerDevicePerHour: env.FEEDBACK_LIMIT_PER_DEVICE_PER_HOUR,
      limitPerIpPerHour: env.FEEDBACK_LIMIT_PER_IP_PER_HOUR,
      kioskMinIntervalSeconds: env.KIOSK_MIN_INTERVAL_SECONDS,
    },
    indices: { minSampleSize: env.MIN_SAMPLE_SIZE },
    shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT_SECONDS,
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = EnvSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  }
  return Object.freeze(toConfig(parsed.data));
}
