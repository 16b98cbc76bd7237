/** A notice shown to a person in the web UI; the email (if any) is queued beside it. */
export interface NotificationTable {
  id: string;
  co_id: string;
  person_id: string;
  /** e.g. `service_token_created`; CO admins may turn kinds off per service. */
  kind: string;
  subject: string;
  body: string;
  link: string | null;
  created_at: string;
  read_at: string | null;
}

export type EmailState = 'pending' | 'sending' | 'sent' | 'failed';

/** The email outbox: written in the transaction of the event, sent by the delivery worker. */
export interface OutboundEmailTable {
  id: string;
  co_id: string;
  notification_id: string | null;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  state: EmailState;
  attempts: number;
  run_after: string;
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface NotificationTables {
  notification: NotificationTable;
  outbound_email: OutboundEmailTable;
}
