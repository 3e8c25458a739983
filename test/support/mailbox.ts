import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on loopback that keeps every message it receives, parsed: where alert e-mails land. */
export class Mailbox {
  readonly mails: ParsedMail[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData: (stream, _session, callback) => {
      simpleParser(stream)
        .then((mail) => {
          this.mails.push(mail);
          callback();
        })
        .catch(callback);
    },
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.server.address() as AddressInfo).port;
  }

  /** The `alerts.email` block of a hookflow config that sends here. */
  get emailConfig(): string {
    return `email: { host: 127.0.0.1, port: ${this.port}, secure: false, from: "hookflow <hookflow@example.test>" }`;
  }

  /** Messages addressed to `address`. */
  to(address: string): ParsedMail[] {
    return this.mails.filter((m) => m.to && [m.to].flat().some((t) => t.text.includes(address)));
  }

  stop(): Promise<void> {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
