"""Translate Telegram updates into coach events, and turns back into messages.

Knows nothing of any dialogue's content: it only carries things across.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections import OrderedDict
from contextlib import suppress
from datetime import date

from telegram import Bot, CallbackQuery, InputFile, LinkPreviewOptions, Message, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.coach import Coach
from bot.core.commands import parse_command
from bot.core.events import Command, Event, NotText, Press, SendText
from bot.core.turn import Effect, Export, OutMessage, ShowChart, Turn, Unpin
from bot.log_privacy import describe_error
from bot.progress_chart import render_png
from bot.schedule.pacer import Pacer
from bot.store.outbox import Reply
from bot.telegram.render import keyboard, split_message
from bot.telegram.sender import MAX_RETRY_AFTER, Blocked, MaybeSent, Sender, SendFailed

log = logging.getLogger(__name__)
LONG_REPLY = 1000  # characters; past this a typing action shows the coach is writing
_NO_PREVIEWS = LinkPreviewOptions(is_disabled=True)
_REMEMBER_PRESSES = 10_000


class TelegramShell:
    def __init__(
        self,
        coach: Coach,
        sender: Sender,
        bot: Bot,
        pacer: Pacer | None = None,
        *,
        protect_content: bool = True,
    ):
        self.coach = coach
        self.sender = sender
        self.bot = bot
        self.pacer = pacer
        # Messages that quote the person's own words cannot be forwarded or saved.
        self.protect_content = protect_content
        # Messages whose buttons were already pressed: a double tap advances once.
        self._pressed: OrderedDict[tuple[int, int], None] = OrderedDict()

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or chat.type != ChatType.PRIVATE or user.is_bot:
            return  # a coach for one person at a time: groups and channels are not for it
        if chat.id != user.id:
            return  # a private chat is the person's own; anything else is not theirs to change
        try:
            event = await self._event(update, chat.id)
            if event is None:
                return
            turn = await self.coach.handle(
                user.id, event, update_id=update.update_id,
                telegram_language=user.language_code or "",
            )  # fmt: skip
            pressed = update.callback_query
            if pressed is not None and isinstance(pressed.message, Message) and turn is not None:
                # Shown as chosen only once the core took the press; a stale one loses
                # its buttons but claims nothing.
                await self._mark_chosen(chat.id, pressed.message, pressed.data or "", turn)
            if turn is not None:
                await self.carry_out(chat.id, turn.messages, turn.effects, interactive=True)
                if turn.persist:
                    await self.coach.replied(user.id, update.update_id)
        except Blocked:
            return

    async def _event(self, update: Update, chat_id: int) -> Event | None:
        if update.callback_query is not None:
            return await self._press(update.callback_query, chat_id)
        if update.edited_message is not None:
            return NotText(edited=True)
        message = update.message
        if message is None:
            return None
        if message.text is None:
            return NotText()
        command = parse_command(message.text)
        if command is None:
            return SendText(message.text)
        return Command(*command)  # the core screens its words and decides what it means

    async def _press(self, query: CallbackQuery, chat_id: int) -> Event | None:
        # Too old, or answered already (a redelivered update): the press still counts.
        with suppress(BadRequest):
            await self.sender.call(chat_id, "answerCallbackQuery", query.answer)
        message = query.message
        if not isinstance(message, Message):
            return Press(query.data or "")
        key = (chat_id, message.message_id)
        if key in self._pressed:
            return None
        self._pressed[key] = None
        if len(self._pressed) > _REMEMBER_PRESSES:
            self._pressed.popitem(last=False)
        return Press(query.data or "")

    async def _mark_chosen(self, chat_id: int, message: Message, data: str, turn: Turn) -> None:
        """Take the buttons away; under the question, show what was chosen if it was taken."""
        label = ""
        if message.reply_markup is not None:
            for row in message.reply_markup.inline_keyboard:
                label = next((b.text for b in row if b.callback_data == data), label)
        prefix = self.coach.script.string("chose_prefix").render({})
        text = message.text_html if message.text else ""
        try:
            if label and text and not turn.stale_press:
                chosen = f"{text}\n\n<i>{prefix} {html.escape(label)}</i>"
                await self.sender.call(
                    chat_id,
                    "editMessageText",
                    lambda: message.edit_text(
                        chosen, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEWS
                    ),
                )
            else:
                await self.sender.call(
                    chat_id, "editMessageReplyMarkup", lambda: message.edit_reply_markup(None)
                )
        except BadRequest:
            pass  # already edited, too old to edit, or gone: the press still counts

    async def carry_out(
        self,
        chat_id: int,
        messages: tuple[OutMessage, ...],
        effects: tuple[Effect, ...],
        *,
        interactive: bool,
    ) -> None:
        """Send a turn's messages, then what it asks of the shell (files to export)."""
        await self.show(chat_id, messages, interactive=interactive)
        if any(isinstance(e, Export) for e in effects):
            await self.send_export(chat_id)
        if any(isinstance(e, ShowChart) for e in effects):
            await self.send_chart(chat_id)
        if any(isinstance(e, Unpin) for e in effects):
            with suppress(BadRequest):  # nothing pinned: nothing to do
                await self.sender.call(
                    chat_id,
                    "unpinAllChatMessages",
                    lambda: self.bot.unpin_all_chat_messages(chat_id),
                )

    async def show(
        self, chat_id: int, messages: tuple[OutMessage, ...], *, interactive: bool = True
    ) -> None:
        bot = self.bot
        if interactive and sum(len(m.text) for m in messages) > LONG_REPLY:
            await self.sender.call(
                chat_id, "sendChatAction", lambda: bot.send_chat_action(chat_id, ChatAction.TYPING)
            )
        for message in messages:
            protect = message.private and self.protect_content
            chunks = split_message(message.text)
            for i, chunk in enumerate(chunks):
                markup = keyboard(message.buttons) if i == len(chunks) - 1 else None
                if interactive and self.pacer is not None:
                    await self.pacer.interactive()
                try:
                    sent = await self.sender.call(
                        chat_id,
                        "sendMessage",
                        lambda chunk=chunk, markup=markup, protect=protect: bot.send_message(  # type: ignore[misc]
                            chat_id,
                            chunk,
                            parse_mode=ParseMode.HTML,
                            reply_markup=markup,
                            link_preview_options=_NO_PREVIEWS,
                            protect_content=protect,
                        ),
                    )
                except MaybeSent:
                    continue  # it may have arrived: counted as sent, the rest still goes
                if message.pin and i == 0:
                    await self._pin(chat_id, sent.message_id)

    async def _pin(self, chat_id: int, message_id: int) -> None:
        try:
            await self.sender.call(
                chat_id,
                "pinChatMessage",
                lambda: self.bot.pin_chat_message(chat_id, message_id, disable_notification=True),
            )
        except BadRequest:
            log.info("could not pin a message")  # not fatal: the card is still in the chat

    async def send_chart(self, chat_id: int) -> None:
        days, caption, labels, locale = await self.coach.chart(chat_id)
        png = await asyncio.to_thread(
            render_png, days, labels, locale
        )  # drawing blocks for a moment
        await self.sender.call(
            chat_id,
            "sendPhoto",
            lambda: self.bot.send_photo(
                chat_id, InputFile(png, filename="progress.png"), caption=caption,
                parse_mode=ParseMode.HTML,
            ),
        )  # fmt: skip

    async def send_export(self, chat_id: int) -> None:
        files = await self.coach.export(chat_id)
        stamp = date.today().isoformat()
        for name, content in (
            (f"mend-export-{stamp}.md", files.markdown),
            (f"mend-export-{stamp}.json", files.json),
        ):
            await self.sender.call(
                chat_id,
                "sendDocument",
                lambda name=name, content=content: self.bot.send_document(  # type: ignore[misc]
                    chat_id, InputFile(content, filename=name)
                ),
            )

    async def resend(self, reply: Reply) -> None:
        """A committed reply that never reached Telegram (the outbox's sweeper sends it)."""
        # Blocked: nothing more is owed. MaybeSent: it may have arrived; never send it twice.
        # Paced as the reply it is: after a crash hundreds may be owed at once.
        with suppress(Blocked, MaybeSent):
            await self.carry_out(reply.user_id, reply.messages, reply.effects, interactive=True)
        await self.coach.replied(reply.user_id, reply.update_id)

    async def deliver(self, chat_id: int, messages: tuple[OutMessage, ...]) -> None:
        """The dispatcher's way to send: paced by the dispatcher, not as a reply."""
        try:  # Blocked goes up as it is: the dispatcher catches the same class
            await self.show(chat_id, messages, interactive=False)
        except MaybeSent:
            return  # it may have arrived: counted as delivered, never sent twice

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log what failed (never what was written) and tell the person their place is safe."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        # Frames locate it; the message and locals may quote the person, so never those.
        log.error("error handling update %s: %s", update_id, describe_error(error))
        if not isinstance(update, Update) or update.effective_user is None:
            return
        if update.effective_chat is None or isinstance(error, Blocked | MaybeSent):
            return  # blocked: nothing to say; may have arrived: showing it again repeats it
        chat_id = update.effective_chat.id
        try:
            if isinstance(error, SendFailed) and error.retry_after is not None:
                # A flood limit: saying so at once would only be refused again.
                if error.retry_after > MAX_RETRY_AFTER:
                    return
                await self.sender.sleep(error.retry_after)
            user = update.effective_user
            turn = await self.coach.current(user.id, user.language_code or "", "error_note")
            await self.show(chat_id, turn.messages)
        except Exception as exc:  # the error path must never raise in turn
            log.error("could not tell the person about the error: %s", describe_error(exc))
