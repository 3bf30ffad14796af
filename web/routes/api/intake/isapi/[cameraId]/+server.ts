import { pushHandler } from '../../push.ts';

/** Hikvision ISAPI alarm push (EventNotificationAlert XML, or multipart XML + picture). */
export const POST = pushHandler('isapi');
