export const SERVICE_VISIBILITIES = ['co_admin', 'co_group_member', 'co_member', 'unauthenticated'] as const;
export type ServiceVisibility = (typeof SERVICE_VISIBILITIES)[number];

export interface CoServiceTable {
  id: string;
  co_id: string;
  name: string;
  description: string;
  /** Alphanumeric; unique per CO ignoring case; the LDAP attribute option label (`app-<short_label>`). */
  short_label: string;
  co_group_id: string | null;
  service_url: string | null;
  contact_email: string | null;
  logo_url: string | null;
  entitlement_uri: string | null;
  visibility: ServiceVisibility;
  identifier_type: string;
  status: 'active' | 'suspended';
  created_at: string;
  updated_at: string;
}
