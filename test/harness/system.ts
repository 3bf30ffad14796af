/**
 * System programs the test tiers need: the one list lives in scripts/system-requirements.js (plain JavaScript,
 * so that `.ci/run` can use it before `npm ci`). Missing ones are installed with apt-get when root on
 * Debian/Ubuntu; otherwise the tier fails at once with a message naming the packages.
 */
export { REQUIREMENTS, ensureSystemPackages, isMet, missingRequirements } from '../../scripts/system-requirements.js';
