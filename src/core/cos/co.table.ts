export interface CoTable {
  id: string;
  name: string;
  description: string;
  status: 'active' | 'suspended';
  /** 1 for the one platform CO, whose admins group holds the platform administrators. */
  is_platform: number;
  created_at: string;
  updated_at: string;
}
