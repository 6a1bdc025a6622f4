// The photo viewer over the copies of one duplicate group, so they can be compared full size before choosing
// which to keep: previous/next step through that group only. Rating and tag edits go through the client as in
// the library view (recorded in the undo history; each notice offers Undo), and the duplicates view shows
// them on the cards. No "find similar" nor tag filter: they belong to the library view.
import type { PhotoSearchClient } from '../../shared/api.js';
import type { EditId, EditResult, PhotoDetail, PhotoId } from '../../shared/types.js';
import { notify, notifyError } from '../toast.js';
import { ratedLabel, taggedLabel, undoOffer, untaggedLabel } from '../undo.js';
import { Viewer } from './Viewer.js';

interface Props {
  client: PhotoSearchClient;
  /** The group's copies as the view holds them now, so an edit shows here as soon as it lands. */
  copies: PhotoDetail[];
  photoId: PhotoId;
  onShow(photoId: PhotoId): void;
  onClose(): void;
  /** An edit of one copy went through: the view changes its card the same way. */
  onEdited(photoId: PhotoId, change: (photo: PhotoDetail) => PhotoDetail): void;
  onUndo(editIds: EditId[]): void;
}

export function CopiesViewer({ client, copies, photoId, onShow, onClose, onEdited, onUndo }: Props) {
  const index = copies.findIndex((photo) => photo.id === photoId);

  async function edit(id: PhotoId, label: string, call: () => Promise<EditResult>, change: (photo: PhotoDetail) => PhotoDetail) {
    try {
      const { editId } = await call();
      if (editId === null) return; // it had that value already: nothing to show nor undo
      onEdited(id, change);
      notify(label, 'info', undoOffer([editId], onUndo));
    } catch (error) {
      notifyError(error);
    }
  }

  return (
    <Viewer
      client={client}
      index={index}
      total={copies.length}
      item={copies[index]}
      onNavigate={(to) => copies[to] && onShow(copies[to].id)}
      onClose={onClose}
      onRate={({ id }, rating) => void edit(id, ratedLabel(rating), () => client.setRating([id], rating), (p) => ({ ...p, rating }))}
      onAddTag={({ id }, tag) =>
        void edit(id, taggedLabel(tag), () => client.addTags([id], [tag]), (p) => (p.tags.includes(tag) ? p : { ...p, tags: [...p.tags, tag] }))}
      onRemoveTag={({ id }, tag) =>
        void edit(id, untaggedLabel(tag), () => client.removeTags([id], [tag]), (p) => ({ ...p, tags: p.tags.filter((t) => t !== tag) }))}
    />
  );
}
