/** Instrumentation scope version reported with every span and metric (keep in step with package.json). */
export const VERSION = '0.1.0';
