/**
 * The source systems hookflow accepts webhooks from, one module each in src/sources/ (whose list the
 * compiler checks against this one). Here because workflow inputs and search attributes carry the name.
 */
export type SourceKindName = 'extend-commerce' | 'ongoing-wms' | 'automation-api';
